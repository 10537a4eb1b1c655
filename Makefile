# The two set-up commands of the README: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo test test-unit test-embedded test-postgres services lint clean

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	# torch first, exactly this release: the CPU wheel on this machine's disk.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/designloop demo

services:
	bash scripts/ensure-services.sh

lint: install
	$(BIN)/ruff check service models workers tests
	$(BIN)/lint-imports
	$(BIN)/mypy

test: install services
	bash scripts/test.sh

clean:
	rm -rf $(VENV) .designloop
