# Set-up on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | md5sum | cut -c1-8)

.PHONY: install demo test run lint browser bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/monitor demo

run: install
	$(BIN)/monitor init
	$(BIN)/monitor run

# Chromium and its driver for the web UI's browser tests (Debian packages), when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q chromium chromium-driver; \
	  else sudo apt-get update -q && sudo apt-get install -y -q chromium chromium-driver; fi; }

test: install browser
	$(BIN)/python -m pytest -q -ra

lint: install
	$(BIN)/ruff check monitor crawlers models scripts tests

bench: install
	$(BIN)/python scripts/bench_classify.py
	$(BIN)/python scripts/bench_crawl.py

clean:
	rm -rf $(VENV) var build *.egg-info
