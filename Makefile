# Frost: the two commands a new user needs are `make run` and `make test`.
BUILD      ?= build
CONFIG     ?= config/frost.yaml
TRIPS      ?= 10M
DATABASE   ?= data/citibike.duckdb
CMAKE_ARGS ?=
JOBS       ?= $(shell nproc)

FROST := $(BUILD)/src/app/frost

.PHONY: run test build web setup seed check clean asan fuzz bench format lint lambda-package image

## run: install what is missing, build, create the sample data on first run, serve on :5000
run: build
	@$(FROST) seed --if-missing --trips $(TRIPS) --out $(DATABASE)
	$(FROST) serve --config $(CONFIG)

## test: the same set-up, then the whole test suite through ctest
test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

setup:
	@./scripts/setup.sh

$(BUILD)/build.ninja: | setup
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS)

build: setup $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)
	@$(MAKE) --no-print-directory web

## web: the dashboard and docs pages (npm, bundled into .cache/web); the API works without them
web:
	@./scripts/build-web.sh || echo "warning: web pages not built; /dashboard and /docs answer 404 until ./scripts/build-web.sh succeeds" >&2

seed: build
	$(FROST) seed --trips $(TRIPS) --out $(DATABASE)

check: build
	$(FROST) check --config $(CONFIG)

## lambda-package: frost-lambda.zip for AWS Lambda (provided.al2023): the binary, every library
## down to libc and the loader, the config and a small sample database (docs/deploy-aws.md)
LAMBDA_TRIPS ?= 500k
lambda-package: build
	./scripts/package-lambda.sh --binary $(FROST) --config $(CONFIG) --trips $(LAMBDA_TRIPS) --out frost-lambda.zip

## image: frost-image.tar, an OCI image (oci-archive) built offline FROM scratch with podman: the
## binary, its libraries and loader, the config, a small sample database; non-root, no shell,
## entrypoint `frost serve` on 0.0.0.0:$$PORT (docs/deploy-containers.md). `podman load -i frost-image.tar`
IMAGE_TRIPS ?= 500k
IMAGE_TAG   ?= localhost/frost:latest
image: build
	./scripts/build-image.sh --binary $(FROST) --config $(CONFIG) --trips $(IMAGE_TRIPS) --tag $(IMAGE_TAG) --out frost-image.tar

## asan: the unit and integration tests under AddressSanitizer and UndefinedBehaviorSanitizer
## (ASAN_CMAKE_ARGS: more cmake options; CI passes -DCMAKE_CXX_FLAGS_DEBUG=-g1, line tables only,
## which still symbolizes every report and compiles about a sixth faster)
ASAN_CMAKE_ARGS ?=
asan: setup
	cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFROST_SANITIZE=ON -DFROST_WERROR=ON -DFROST_BENCH=OFF $(ASAN_CMAKE_ARGS)
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ctest --output-on-failure -j $(JOBS) -LE 'browser|slow|package'

## format: check the C++ formatting (clang-format) of src/, tests/ and bench/
format:
	@./scripts/setup.sh --lint
	./scripts/lint.sh --format

## lint: the format check, then clang-tidy over src/ (.clang-tidy); CI runs it before the tests,
## with LINT_ARGS="--changed-since <.ci/lint-base>" (docs/contributing.md)
lint:
	@./scripts/setup.sh --lint
	./scripts/lint.sh $(LINT_ARGS)

## bench: issue 14's ratio table (cold start, uncached and cached answers vs nginx) and P1-P6 of
## bench/serving/run.sh with reduced rounds; about 15 min on 2 cores. BENCH_QUICK=1: a 2-minute smoke run
bench: build
	BUILD=$(BUILD) ./bench/run_all.sh

clean:
	rm -rf $(BUILD) build-asan build-lint
