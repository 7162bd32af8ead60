# Two commands on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := app.py

.PHONY: run test lint format bench screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

instance/config.py:
	$(BIN)/python -c "import secrets; print(f'SECRET_KEY = {secrets.token_hex(32)!r}')" > $@
	@echo "Created instance/config.py with a new SECRET_KEY."

run: $(VENV)/.installed instance/config.py
	$(BIN)/flask db upgrade
	@echo "Conference Ideas is starting at http://127.0.0.1:5000/ (Ctrl+C stops it)"
	$(BIN)/flask run --host 127.0.0.1 --port 5000

# axe-core for the accessibility tests (tests/test_accessibility.py), from the npm registry;
# without npm those tests skip and say so.
AXE := tests/.axe/node_modules/axe-core/axe.min.js
$(AXE):
	@if command -v npm >/dev/null; then \
		npm install --silent --no-audit --no-fund --prefix tests/.axe axe-core@4.14.1; \
	else echo "npm not found: the accessibility tests will skip"; fi

test: $(VENV)/.installed $(AXE)
	$(BIN)/python -m pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.installed
	$(BIN)/python bench/targets.py
	$(BIN)/python bench/themes.py

# PNGs of both sides, desktop and phone, light and dark, into docs/screenshots/ (needs Chromium).
screenshots: $(VENV)/.installed
	$(BIN)/python docs/screenshots.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
