# aqe-artifacts — the two commands a newcomer runs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.installed
TSTAMP := $(VENV)/.installed-test
BSTAMP := $(VENV)/.installed-bench
NODE_DIR := tools/node
NSTAMP := $(NODE_DIR)/node_modules/.installed

.PHONY: demo test lint bench install clean help node-tools image fuzz

help:
	@echo "make demo   - install into .venv and run the main job end to end on the local store"
	@echo "make test   - install with test dependencies and servers, lint, run the whole suite"
	@echo "make bench  - run the benchmarks side by side with the reference tools"
	@echo "make fuzz   - differential fuzzing of the C accelerators under ASan/UBSan (FUZZ_SECONDS=600)"
	@echo "make lint   - ruff and mypy --strict"
	@echo "make image  - build the action's container image (podman or docker) and smoke-test it"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

ACCEL_SRC := setup.py aqe_ci/accel.py $(shell find aqe_ci -name '*.c' -o -name '*.h' 2>/dev/null)

$(STAMP): $(PY) pyproject.toml $(ACCEL_SRC)
	$(PIP) install --quiet -e .
	@touch $@

$(TSTAMP): $(STAMP)
	$(PIP) install --quiet -e '.[test]'
	@command -v jq >/dev/null 2>&1 || { echo "installing jq (the storage-layout recipe test uses it)"; \
	  if command -v apt-get >/dev/null 2>&1; then \
	    { apt-get update -qq && apt-get install -y -qq jq; } >/dev/null 2>&1 || \
	    { sudo -n apt-get update -qq && sudo -n apt-get install -y -qq jq; } >/dev/null 2>&1 || true; fi; \
	  command -v jq >/dev/null 2>&1 || { echo "jq is required for make test: install it (apt-get install jq)" >&2; exit 1; }; }
	@command -v rsync >/dev/null 2>&1 || { echo "installing rsync (gitlab-ci-local's shell executor uses it)"; \
	  if command -v apt-get >/dev/null 2>&1; then \
	    { apt-get update -qq && apt-get install -y -qq rsync; } >/dev/null 2>&1 || \
	    { sudo -n apt-get update -qq && sudo -n apt-get install -y -qq rsync; } >/dev/null 2>&1 || true; fi; \
	  command -v rsync >/dev/null 2>&1 || { echo "rsync is required for make test: install it (apt-get install rsync)" >&2; exit 1; }; }
	@command -v chromium >/dev/null 2>&1 || { echo "installing chromium (badge and HTML report tests render in it)"; \
	  if command -v apt-get >/dev/null 2>&1; then \
	    { apt-get update -qq && apt-get install -y -qq chromium chromium-driver fonts-dejavu-core; } >/dev/null 2>&1 || \
	    { sudo -n apt-get update -qq && sudo -n apt-get install -y -qq chromium chromium-driver fonts-dejavu-core; } >/dev/null 2>&1 || true; fi; \
	  command -v chromium >/dev/null 2>&1 || { echo "chromium is required for make test: apt-get install chromium" >&2; exit 1; }; }
	@touch $@

# Test-only npm tools (Azurite, @actions/artifact, gitlab-ci-local), pinned by tools/node/package-lock.json.
$(NSTAMP): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm is required for make test (Node 20+): apt-get install nodejs npm" >&2; exit 1; }
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

node-tools: $(NSTAMP)

$(BSTAMP): $(TSTAMP)
	$(PIP) install --quiet -e '.[test,bench]'
	@touch $@

install: $(STAMP)

demo: $(STAMP)
	@PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash examples/demo.sh

test: lint $(TSTAMP) $(NSTAMP)
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

lint: $(TSTAMP)
	$(VENV)/bin/ruff check aqe_ci tests bench entrypoint.py
	$(VENV)/bin/mypy --strict aqe_ci entrypoint.py

bench: $(BSTAMP) $(NSTAMP)
	$(PY) bench/run.py $(BENCH_ARGS)

# The C accelerators built again with AddressSanitizer and UBSan (build/fuzz, the installed ones are
# untouched), then tests/ingest/fuzz_accel.py compares them with the pure-Python path on mutated
# corpus files for FUZZ_SECONDS. PYTHONMALLOC=malloc: the extensions' PyMem buffers then come from
# malloc, which ASan watches; leaks are not reported (the interpreter keeps memory until exit).
FUZZ_SECONDS ?= 600
FUZZ_BUILD   := build/fuzz
CC           ?= gcc
SANITIZE     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
fuzz: $(TSTAMP)
	rm -rf $(FUZZ_BUILD)
	LD_PRELOAD="$$($(CC) -print-file-name=libasan.so) $$($(CC) -print-file-name=libubsan.so)" \
	  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  PYTHONMALLOC=malloc CC=$(CC) CFLAGS="-O1 -g $(SANITIZE)" \
	  $(PY) tests/ingest/fuzz_accel.py --seconds $(FUZZ_SECONDS) --sanitized $(FUZZ_BUILD)/lib --build \
	  --out $(FUZZ_BUILD)/mismatches $(FUZZ_ARGS)

# The action's container image: BASE=python:3.12-slim when the engine has it, else a local base made
# with debootstrap; then a smoke test of the built image's entrypoint. Not part of `make test`.
image: $(TSTAMP)
	@PYTHON="$(PY)" bash tools/image/build.sh

clean:
	rm -rf $(VENV) .qe-artifacts .pytest_cache .mypy_cache build *.egg-info
