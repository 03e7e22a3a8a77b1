# Two commands on a fresh machine: `make quickstart` (the main job on the bundled demo model)
# and `make test`. Both create .venv and install everything they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: quickstart test test-fast lint setup bench demo corpora clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# The CPU build of torch; a bare `torch` requirement would pull a multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	# Compiles llama.cpp on first install (about 9 minutes on 2 cores); pip caches the wheel.
	$(BIN)/pip install -q -e '.[all]'
	touch $(STAMP)

setup: $(STAMP)

quickstart: $(STAMP)
	$(BIN)/crest-edge quickstart

test: lint
	$(BIN)/python -m pytest -q

# everything but the tests marked slow: under a minute here once installed
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/crest-edge bench --shape base --markdown bench/results-base.md --json bench/results-base.json --plot bench/latency-vs-size.png

demo: $(STAMP)
	$(BIN)/python scripts/train_demo.py

corpora:
	$(PYTHON) scripts/make_corpora.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
