# One entry point for people and CI. `make demo` and `make test` set themselves up on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench soak audit clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools  # the venv's own setuptools is years old
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/pressureguard demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

# Hours, never part of `make test`: fuzzers at a million cases, faults ×10, 4 h at 1 kHz, 8 tabs.
soak: $(STAMP)
	$(BIN)/python -m reliability.soak

# Fails unless every dependency could be checked against the vulnerability database
# (or, offline, against a copy of one: make audit ADVISORIES=path/to/advisory-database/vulns).
audit: $(STAMP)
	$(BIN)/python -m reliability.audit $(if $(ADVISORIES),--advisories $(ADVISORIES))

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
