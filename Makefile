# Every target sets itself up: a fresh machine needs nothing but Python 3.11 and these commands.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: chat test index lint eval bench clean

$(STAMP): pyproject.toml scripts/setup.sh
	bash scripts/setup.sh
	touch $(STAMP)

chat: $(STAMP)          ## prepare model, encoder and index (progress bars), then start the chat on http://127.0.0.1:7860
	$(VENV)/bin/qa prepare
	$(PY) app.py

test: $(STAMP)          ## lint and run every test (installs Debian's chromium for the browser tests)
	bash scripts/setup.sh --system-test-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/python -m pytest

index: $(STAMP)
	$(VENV)/bin/qa index

eval: $(STAMP)
	$(VENV)/bin/qa eval

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) index/* .pytest_cache
