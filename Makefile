# Two commands on a fresh machine with Python 3.11 and make:
#   make demo   create .venv, install, solve a shipped example, print a summary, write the plan
#   make test   create .venv, install with test extras, run the suite
#   make browser  install headless Chromium (Debian packages) for the HTML view tests
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test bench clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test,highs]"
	touch $@

demo: $(VENV)/.installed
	$(BIN)/allocopt solve data/examples/quickstart.json --time-limit 10 --out quickstart.plan.json

test: $(VENV)/.installed
	$(BIN)/python -m pytest

# Chromium from the OS packages (root, Debian/Ubuntu); the view tests skip without it
# unless ALLOCOPT_REQUIRE_BROWSER=1.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

bench: $(VENV)/.installed
	benchmarks/protocol.sh

clean:
	rm -rf $(VENV) *.plan.json
