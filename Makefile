# tlsext-shim: `make demo` shows the product end to end; `make test` runs every test.

CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: all build release header lint test rust-tests c-tests valgrind demo clean

all: build

build:
	$(CARGO) build --lib

release:
	$(CARGO) build --release --lib

# Regenerates include/tlsext_shim.h from the sources (commit the result).
header:
	TLSEXT_SHIM_UPDATE_HEADER=1 $(CARGO) build --lib

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

rust-tests: build
	$(CARGO) test

c-tests: build
	$(MAKE) -C c-tests check

valgrind: build
	$(MAKE) -C c-tests valgrind

# Two preloaded `openssl s_server`s sharing a key directory: cross-server resumption, a
# live rotation and a retired key, with a table of what happened.
demo: build
	bash tests/demo/demo.sh

test: lint rust-tests c-tests valgrind fuzz-smoke demo

clean:
	$(CARGO) clean
	$(MAKE) -C c-tests clean

# ---------------------------------------------------------------------------------------------
# Installation: make install PREFIX=/usr/local DESTDIR=   (and make uninstall, same variables)
#
# Installs libtlsext_shim.so.$(VERSION) with the soname libtlsext_shim.so.$(SOVERSION) and the
# usual .so.$(SOVERSION) and .so symlinks, include/tlsext_shim.h, the pkg-config file
# tlsext-shim.pc, the tlsext-shim CLI, its man page and the docs. The library is linked with its
# soname in a target directory of its own ($(INSTALL_TARGET_DIR)), so the ordinary build that
# tests and LD_PRELOAD use keeps its soname-less library. INSTALL_PROFILE=dev installs a debug
# build (what tests/install.rs does). ldconfig runs only for a real install (empty DESTDIR) by
# root; LDCONFIG=true skips it.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/tlsext-shim
INSTALL ?= install
LDCONFIG ?= ldconfig
INSTALL_PROFILE ?= release
INSTALL_TARGET_DIR ?= target/install

VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
SOVERSION := $(firstword $(subst ., ,$(VERSION)))
SONAME := libtlsext_shim.so.$(SOVERSION)
PROFILE_DIR := $(if $(filter dev test,$(INSTALL_PROFILE)),debug,$(if $(filter bench,$(INSTALL_PROFILE)),release,$(INSTALL_PROFILE)))
# In the .pc file, directories under $(PREFIX) are written relative to ${prefix}.
PC_LIBDIR := $(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))
PC_INCLUDEDIR := $(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))

.PHONY: install uninstall

install:
	$(CARGO) build --profile $(INSTALL_PROFILE) --bin tlsext-shim
	$(CARGO) rustc --profile $(INSTALL_PROFILE) --lib --crate-type cdylib --target-dir $(INSTALL_TARGET_DIR) \
		-- -C link-arg=-Wl,-soname,$(SONAME)
	$(INSTALL) -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(INCLUDEDIR) \
		$(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DOCDIR)
	$(INSTALL) -m 0755 $(INSTALL_TARGET_DIR)/$(PROFILE_DIR)/libtlsext_shim.so \
		$(DESTDIR)$(LIBDIR)/libtlsext_shim.so.$(VERSION)
	ln -sfn libtlsext_shim.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sfn $(SONAME) $(DESTDIR)$(LIBDIR)/libtlsext_shim.so
	$(INSTALL) -m 0644 include/tlsext_shim.h $(DESTDIR)$(INCLUDEDIR)/tlsext_shim.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(PC_LIBDIR)|g' \
		-e 's|@INCLUDEDIR@|$(PC_INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
		tlsext-shim.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/tlsext-shim.pc
	chmod 0644 $(DESTDIR)$(PKGCONFIGDIR)/tlsext-shim.pc
	$(INSTALL) -m 0755 target/$(PROFILE_DIR)/tlsext-shim $(DESTDIR)$(BINDIR)/tlsext-shim
	$(INSTALL) -m 0644 docs/tlsext-shim.1 $(DESTDIR)$(MANDIR)/man1/tlsext-shim.1
	$(INSTALL) -m 0644 README.md docs/operations.md $(DESTDIR)$(DOCDIR)/
	if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then $(LDCONFIG) || true; fi

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libtlsext_shim.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME) \
		$(DESTDIR)$(LIBDIR)/libtlsext_shim.so $(DESTDIR)$(INCLUDEDIR)/tlsext_shim.h \
		$(DESTDIR)$(PKGCONFIGDIR)/tlsext-shim.pc $(DESTDIR)$(BINDIR)/tlsext-shim \
		$(DESTDIR)$(MANDIR)/man1/tlsext-shim.1 $(DESTDIR)$(DOCDIR)/README.md $(DESTDIR)$(DOCDIR)/operations.md
	rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null || true
	if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then $(LDCONFIG) || true; fi

# ---------------------------------------------------------------------------------------------
# Fuzzing and stress (issue 5). The cargo-fuzz project is fuzz/ (its own workspace, stable Rust
# with RUSTC_BOOTSTRAP=1); fuzz/run.sh installs cargo-fuzz when it is missing.
#   fuzz-smoke  every fuzz target for 8 s from the committed corpus (part of make test)
#   fuzz        every fuzz target for 10 million executions; writes fuzz/RESULTS.md
#   stress      the long fault and load runs of tests/faults.rs (make test runs short ones)

.PHONY: fuzz-smoke fuzz stress

fuzz-smoke:
	bash fuzz/run.sh smoke

fuzz:
	bash fuzz/run.sh full

stress: build
	$(MAKE) -C c-tests/stress stress

# ---------------------------------------------------------------------------------------------
# Benchmarks (issue 5; results and method in BENCHMARKS.md). `make bench` builds the release
# library and the C programs in c-tests/bench, then c-tests/bench/run.py runs every benchmark
# (C loops, interleaved handshakes, callgrind counts, memory, certificate loading, the criterion
# benches in benches/) in about 5 minutes, prints a summary and writes target/bench/summary.md
# and results.json. BENCH_ARGS=--quick shrinks every run (a smoke test, not for numbers).

.PHONY: bench bench-build

bench-build:
	$(CARGO) build --release --lib
	$(MAKE) -C c-tests/bench

bench: bench-build
	python3 c-tests/bench/run.py $(BENCH_ARGS)
