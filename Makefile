# tlsext-shim: `make demo` shows the product end to end; `make test` runs every test.

CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: all build release header lint test rust-tests c-tests valgrind clean

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

rust-tests:
	$(CARGO) test

c-tests: build
	$(MAKE) -C c-tests check

valgrind: build
	$(MAKE) -C c-tests valgrind

test: lint rust-tests c-tests valgrind
	@echo "make test: all suites passed"

clean:
	$(CARGO) clean
	$(MAKE) -C c-tests clean
