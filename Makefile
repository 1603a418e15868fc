# sockettutor: `make demo` runs the classroom demo, `make test` runs every test.
# Both install what is missing first (scripts/setup), then build.

SWIFT ?= swift
BIN := .build/debug
RELEASE_BIN := .build/release

.PHONY: all setup build release test test-tsan test-asan fuzz fuzz-merge demo lessons bench bench-echo bench-http bench-handshake bench-fuzz bench-liveview bench-link bench-trace clean
.PHONY: install-build install uninstall deb

all: build

setup:
	@scripts/setup

# --force-resolved-versions: the dependency versions pinned in Package.resolved, or an error.
build: setup
	$(SWIFT) build --force-resolved-versions

release: setup
	$(SWIFT) build -c release --force-resolved-versions

# The whole suite (see scripts/test): live-capture suites, whose names contain "Live", run
# afterwards on their own, one test at a time, so no other test's traffic lands in their captures.
# The projector page's browser test and the SVG check need a headless Chromium, its driver,
# selenium (Debian's, for Debian's python3) and xmllint: installed here, not for the demo; man-db
# and dpkg-dev for the install tests (man -l of each page, make deb).
test: setup
	@scripts/setup chromium chromium-driver python3-selenium libxml2-utils man-db dpkg-dev
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
	bench/link/run
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

# lab-link against a minimal C TUN forwarder, and its delay error (needs root).
bench-link: release
	@scripts/setup gcc bc
	bench/link/run

# A Python client's round trips untraced, under strace -f and under handshake-watch -- (issue 20).
bench-trace: release
	@scripts/setup strace
	bench/trace/run

clean:
	rm -rf .build .build-tsan .build-asan .build-install Fuzz/.build Fuzz/.scratch

# Installing like a tool (scripts/install, scripts/deb). GNU conventions:
#   make install-build                 as yourself: release tools with the Swift runtime linked in
#                                      (no toolchain needed to run them), man pages, completions
#   sudo make install                  into PREFIX (/usr/local); DESTDIR= stages, BINDIR=, MANDIR=
#   sudo make uninstall                removes exactly what install put there
#   make deb                           .build-install/sockettutor_<version>_<arch>.deb
# The build lives in .build-install, apart from the debug build, with the versions pinned in
# Package.resolved. It is redone only when a source is newer than it, so `sudo make install`
# after `make install-build` needs no swift on root's PATH.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
INSTALL_DIRS = PREFIX="$(PREFIX)" DESTDIR="$(DESTDIR)" BINDIR="$(BINDIR)" DATADIR="$(DATADIR)" MANDIR="$(MANDIR)"
# The commit is part of --version: a new commit rebuilds too. Its id is kept in a stamp file that
# is rewritten only when HEAD moves (packed refs, a commit made during a build: file times of
# .git would miss those), so the stamp's time is the commit's arrival.
HEAD_STAMP := .build-install/head
$(shell mkdir -p .build-install; head=$$(git rev-parse HEAD 2>/dev/null); \
	[ "$$(cat $(HEAD_STAMP) 2>/dev/null)" = "$$head" ] || echo "$$head" > $(HEAD_STAMP))
INSTALL_SOURCES := $(shell find Sources Plugins -type f 2>/dev/null) Package.swift Package.resolved VERSION scripts/install $(HEAD_STAMP)

.build-install/dist/tools: $(INSTALL_SOURCES)
	@scripts/setup
	@SWIFT=$(SWIFT) scripts/install build

install-build: .build-install/dist/tools

install: .build-install/dist/tools
	@$(INSTALL_DIRS) scripts/install install

uninstall:
	@$(INSTALL_DIRS) scripts/install uninstall

deb: .build-install/dist/tools
	@scripts/setup dpkg-dev
	@scripts/deb
