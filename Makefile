# pennytrail: the two commands first.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
HOME_DIR := .pennytrail
DATA_DIR := $(HOME_DIR)/data
STAMP  := $(VENV)/.installed

.PHONY: demo test ui serve bench clean mutants mutants-resume snapshot

demo: $(STAMP)
	$(BIN)/pennytrail demo --home $(HOME_DIR)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

ui: $(STAMP)
	$(BIN)/python -m pipelines.ui --home $(HOME_DIR)

serve: $(STAMP)
	$(BIN)/pennytrail serve --home $(HOME_DIR) --host 127.0.0.1 --port 8000

bench: $(STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/spark.py

# Mutation testing (long; not part of `make test`): mutmut over the core's Python, then the kept
# list of rule mutations of the SQL stages. Prints each score and every survivor (docs/testing.md).
mutants: $(STAMP)
	rm -rf mutants mutants.log
	$(MAKE) --no-print-directory mutants-resume

# Go on with a stopped `make mutants` (a whole run takes about three hours on two cores): mutmut keeps each result
# under mutants/ and runs only the mutants not run yet. The code and the tests must be as they
# were when the run began; after a change, start again with `make mutants`.
mutants-resume: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,mutants]'
	$(BIN)/mutmut run --max-children 2 >> mutants.log 2>&1 || { tail -20 mutants.log; exit 1; }
	$(BIN)/python mutation/mutmut_report.py; a=$$?; $(BIN)/python mutation/rules.py; b=$$?; exit $$((a || b))

# After a deliberate change to the Dagster definitions: rewrite the snapshot the tests compare with.
snapshot: $(STAMP)
	$(BIN)/python -m tests.definitions_snapshot --update

$(VENV)/bin/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "pennytrail needs Python 3.11 ($(PYTHON) not found; set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(VENV)/bin/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

clean:
	rm -rf $(HOME_DIR) .pytest_cache .hypothesis mutants mutants.log
