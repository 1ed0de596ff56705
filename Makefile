# The two commands of the README: `make run` and `make test`. Both set up everything on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
DATA   ?= instance
PORT   ?= 8080

.PHONY: run test bench venv clean system-packages translations catalogues seal-vendor

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

# The compiled catalogues (.mo), made from the .po files at install: `make run` and `make test`
# need nothing else (docs/translating.md). The wheel compiles its own (setup.py).
MO := $(patsubst %.po,%.mo,$(wildcard portal/translations/*/LC_MESSAGES/messages.po))
%.mo: %.po $(VENV)/.installed
	$(VENV)/bin/pybabel compile --use-fuzzy -i $< -o $@

catalogues: $(MO)

venv: $(VENV)/.installed catalogues

# For translators: the strings of every page and form, extracted into messages.pot, and each
# language's .po brought up to date with it (docs/translating.md).
translations: $(VENV)/.installed
	$(VENV)/bin/pybabel extract --no-location --sort-output --width=100 -F babel.cfg -k lazy_gettext -k _l \
		--project="Protected disclosure portal" -o portal/translations/messages.pot .
	$(VENV)/bin/pybabel update --width=100 --no-fuzzy-matching -i portal/translations/messages.pot \
		-d portal/translations

# axe-core, injected into pages by the browser tests (tests/web/test_browser.py); pinned by package-lock.json.
AXE := node_modules/axe-core/axe.min.js
$(AXE): package.json package-lock.json | system-packages
	npm ci --no-audit --no-fund
	touch $@

# The noble libraries static/seal/portal-crypto.js imports, copied into static/seal/vendor/ from the
# versions package-lock.json pins (no install scripts run); tests/browser_crypto/test_vendor_build.py
# rebuilds them and compares byte for byte with what is committed.
seal-vendor: | system-packages
	npm ci --ignore-scripts --no-audit --no-fund
	node scripts/vendor-seal.mjs

# `make run PORT=8081` when 8080 is taken; a taken port gets one plain line from `portal`, not a trace.
run: venv
	@$(VENV)/bin/portal --data $(DATA) demo --port $(PORT)
	@PORTAL_RELEASE_KEY=$(abspath $(DATA))/seal-bundle/release-key.json PORTAL_RELEASE_KEY_UNCHECKED=1 \
		$(VENV)/bin/portal --data $(DATA) serve --host 127.0.0.1 --port $(PORT)

# Debian packages for the test suites (chromium, npm, strace), installed only if missing.
system-packages:
	scripts/install-system-packages

# Two workers (pytest-xdist) for most tests, then the `serial` ones alone (tests/conftest.py).
test: system-packages venv $(AXE)
	$(PY) -m pytest -q -n 2 -m "not serial"
	$(PY) -m pytest -q -p no:xdist -m serial

bench: venv
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .hypothesis
