# sockettutor: `make demo` runs the classroom demo, `make test` runs every test.
# Both install what is missing first (scripts/setup), then build.

SWIFT ?= swift
BIN := .build/debug
RELEASE_BIN := .build/release

.PHONY: all setup build release test demo lessons bench bench-echo bench-http bench-handshake bench-liveview clean

all: build

setup:
	@scripts/setup

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release

# The whole suite (see scripts/test): live-capture suites, whose names contain "Live", run
# afterwards on their own, one test at a time, so no other test's traffic lands in their captures.
# The projector page's browser test and the SVG check need a headless Chromium, its driver,
# selenium (Debian's, for Debian's python3) and xmllint: installed here, not for the demo.
test: setup
	@scripts/setup chromium chromium-driver python3-selenium libxml2-utils
	@SWIFT=$(SWIFT) scripts/test

demo: build
	@scripts/demo

# Every lesson, unattended, checked against what the tools really print.
lessons: build
	.build/debug/lesson check

bench: setup
	@scripts/setup nginx wrk time gcc curl
	$(SWIFT) build -c release
	bench/echo/run
	bench/http/run
	bench/handshake/run
	bench/liveview/run

bench-echo: release
	@scripts/setup time gcc
	bench/echo/run

bench-http: release
	@scripts/setup nginx wrk
	bench/http/run

bench-handshake: release
	@scripts/setup time
	bench/handshake/run

bench-liveview: release
	@scripts/setup gcc curl
	bench/liveview/run

clean:
	rm -rf .build
