# ferrovs: `make demo` and `make test` do everything on a fresh Debian machine.
SHELL := /bin/bash
CARGO ?= cargo
BIN := target/release/ferrovs

.PHONY: all deps build release demo test lint fmt clean lab-down bench

all: build

deps:
	@bash scripts/deps.sh

build: deps
	$(CARGO) build --workspace --all-targets

release: deps
	$(CARGO) build --release -p ferrovs -p control --bins

# A lab of network namespaces, the director live on it, 300 requests spread
# over three real servers; the lab is torn down whatever happens.
demo: release
	@bash scripts/demo.sh $(BIN)

lint: deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# Every test: unit, property, replay, and (as root) the live lab tests.
# Test binaries run one at a time (lab tests share namespace names).
test: deps lint
	@bash tests/lab/lab.sh hugepages
	$(CARGO) test --workspace -- --test-threads=2

# Benchmarks (micro, instructions per packet, memif packet rate, lab peers),
# results in bench/results/ (JSON, markdown, SVG). Root for the live parts.
bench: deps
	@bash scripts/bench.sh

lab-down:
	@bash tests/lab/lab.sh down

clean:
	$(CARGO) clean
