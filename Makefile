# sockettutor: `make demo` runs the classroom demo, `make test` runs every test.
# Both install what is missing first (scripts/setup), then build.

SWIFT ?= swift
BIN := .build/debug
RELEASE_BIN := .build/release

.PHONY: all setup build release test test-tsan test-asan fuzz fuzz-merge demo lessons bench bench-echo bench-http bench-handshake bench-fuzz bench-liveview bench-trace clean

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

# The whole suite under ThreadSanitizer / AddressSanitizer, the tools the tests start included
# (own build folders .build-tsan and .build-asan). Fails on any sanitizer report.
test-tsan: setup
	@SWIFT=$(SWIFT) scripts/test-sanitizer thread

test-asan: setup
	@SWIFT=$(SWIFT) scripts/test-sanitizer address

# Coverage-guided fuzzing (Fuzz/, libFuzzer + AddressSanitizer): each target for FUZZ_SECONDS
# (default 60). New inputs land in Fuzz/.scratch; `make fuzz-merge` folds the ones that add
# coverage into Fuzz/Corpus.
FUZZ_SECONDS ?= 60
fuzz: setup
	@SWIFT=$(SWIFT) FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz run

fuzz-merge: setup
	@SWIFT=$(SWIFT) scripts/fuzz merge

demo: build
	@scripts/demo

# Every lesson, unattended, checked against what the tools really print.
lessons: build
	.build/debug/lesson check

bench: setup
	@scripts/setup nginx wrk time gcc curl strace
	$(SWIFT) build -c release
	bench/echo/run
	bench/http/run
	bench/handshake/run
	bench/fuzz/run
	bench/liveview/run
	bench/trace/run

bench-echo: release
	@scripts/setup time gcc
	bench/echo/run

bench-http: release
	@scripts/setup nginx wrk
	bench/http/run

bench-handshake: release
	@scripts/setup time
	bench/handshake/run

# Executions per second of every fuzz target, and the decoder through tcpdump's test captures.
bench-fuzz: setup
	bench/fuzz/run

bench-liveview: release
	@scripts/setup gcc curl
	bench/liveview/run

# A Python client's round trips untraced, under strace -f and under handshake-watch -- (issue 20).
bench-trace: release
	@scripts/setup strace
	bench/trace/run

clean:
	rm -rf .build .build-tsan .build-asan Fuzz/.build Fuzz/.scratch
