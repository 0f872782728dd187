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

test: lint rust-tests c-tests valgrind demo

clean:
	$(CARGO) clean
	$(MAKE) -C c-tests clean
