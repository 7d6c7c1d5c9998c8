# Quickstart: `make run` (offline demo refresh) and `make test` (whole suite).
# Both create .venv when missing and install the pinned project into it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint format bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/partnerdd refresh --offline

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy connectors flows

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Scale options pass through, e.g. make bench BENCH_ARGS="--partners 10000" (see benchmarks/scale.py)
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) data reports .pytest_cache .mypy_cache .ruff_cache
