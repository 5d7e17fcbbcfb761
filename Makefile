# `make run` serves the app, `make test` runs the whole suite, `make test-fast` the fast part (under a
# minute). All build .venv first. `make report` publishes what the last test run generated (build/).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

export DATA_ROOT ?= ./data
export LOG_ROOT ?= ./logs
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-fast report lint bench compose-test

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Test-only JS (axe-core for the browser accessibility tests), pinned in package-lock.json.
$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund && touch $(NODE_STAMP); \
	else echo "npm not found: browser accessibility tests skip locally (and fail under CI=true)"; fi

run: $(STAMP)
	$(BIN)/a3cp serve --host $(HOST) --port $(PORT)

# The whole suite, its files spread over TEST_WORKERS processes (pytest-xdist; a file's tests stay in
# one, with its module fixtures). Most tests wait on servers, browsers and child processes, so two
# workers on 2 cores take about half the time of one (README.md).
TEST_WORKERS ?= 2
test: $(STAMP) $(NODE_STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

# Pure and unit tests (tests/unit/ and the tests marked `fast`: no MediaPipe, browser, server process or
# PostgreSQL): under a minute on 2 cores. None fuzzes, so schemathesis's slow-loading plugin stays off.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m fast -q -p no:schemathesis

# The test run writes its reports under build/ (git-ignored); this copies them into docs/ on purpose.
report:
	@test -f build/reliability.md || { echo "no build/reliability.md: run make test first" >&2; exit 1; }
	cp build/reliability.md docs/reliability.md
	@for shot in demo-gesture demo-review demo-consent demo-try; do \
	  if [ -f build/$$shot.png ]; then cp build/$$shot.png docs/$$shot.png; \
	  else echo "no build/$$shot.png (the browser tests did not run): docs/$$shot.png kept"; fi; \
	done

# Benchmarks (bench/, figures printed; docs/benchmarks.md records them): about 10 minutes on 2 cores.
bench: $(STAMP)
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m mypy

# The compose end-to-end check (docs/deployment.md, "What CI runs"); as root, installs Docker if missing.
compose-test: $(STAMP)
	bash .ci/compose
