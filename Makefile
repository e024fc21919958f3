# astra-host: `make run` serves the example apps, `make test` runs every test.
# Both install what they need first (scripts/bootstrap.sh), so they work on a fresh machine.

CARGO ?= cargo
LISTEN ?= 127.0.0.1:8080

.PHONY: all bootstrap guest build run test bench clean

all: build

bootstrap:
	@scripts/bootstrap.sh

# The Lua interpreter and the Astra Lua API, as a wasm32-wasip2 component.
guest: bootstrap
	@echo "==> building the Lua guest component (wasm32-wasip2)"
	@$(CARGO) build --locked -p astra-guest --target wasm32-wasip2 --profile guest

# target/release/astra-host, with the guest embedded.
build: guest
	@echo "==> building astra-host (release)"
	@$(CARGO) build --locked --release -p astra-host

run: build
	@echo "==> serving examples/apps on http://$(LISTEN) (try: curl http://hello.localhost:$(LISTEN:127.0.0.1:%=%)/)"
	@./target/release/astra-host --apps examples/apps --listen $(LISTEN)

test: build
	@scripts/bootstrap.sh test
	@echo "==> unit tests and end-to-end tests (the real binary, over real sockets)"
	@$(CARGO) test --locked --release -p astra-host -p astra-tests -p astra-bench -p astra-microbench

# One table of req/s, p50, p99 and ratios against a plain axum server (bench/baseline).
bench: build
	@scripts/bootstrap.sh test
	@echo "==> building the benchmark and its axum baseline"
	@$(CARGO) build --locked --release -p astra-bench -p astra-baseline
	@command -v lua5.4 >/dev/null || echo "(lua5.4 is not installed: the native Lua row is skipped; apt-get install lua5.4)"
	@./target/release/astra-bench
	@echo "==> micro benchmarks of the sandbox (criterion)"
	@$(CARGO) bench --locked -p astra-microbench --bench sandbox

clean:
	@$(CARGO) clean
