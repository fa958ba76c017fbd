# aml_nb: `make demo` sets up and runs the main job; `make test` runs every test. Nothing else is needed first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat settings.ini setup.py | cksum | cut -d' ' -f1)
export HF_HUB_OFFLINE ?= 1

SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install browser demo app test nbtest pytest screenshots sync clean

$(STAMP): settings.ini setup.py
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "aml_nb needs Python >= 3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -e ".[dev]"
	rm -f $(VENV)/.installed-*; touch $(STAMP)

install: $(STAMP)

browser:  ## Debian's Chromium for the real-browser tests (Playwright cannot download its own browser here)
	@test -x /usr/bin/chromium || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; } \
	  || { echo "the browser tests need Chromium at /usr/bin/chromium: apt-get install chromium" >&2; exit 1; }

PRESET ?= quick

demo: install  ## synthetic cohort, comparison + ablation, Grad-CAM, genomic fusion and fairness, then the dashboard (PRESET=paper on a GPU)
	$(BIN)/aml-nb demo --preset $(PRESET) $(if $(filter-out quick,$(PRESET)),--runs runs/demo-$(PRESET))

app: install
	$(BIN)/aml-nb app --runs runs/demo

nbtest: install  ## the examples in the notebooks, in a scratch folder of their own: removed after, even when one fails; anything they left there fails the target
	@s=$$(mktemp -d); TMPDIR=$$s $(BIN)/nbdev_test --n_workers 2; rc=$$?; \
	left=$$(ls -A $$s | grep -v '^torchinductor_' | tr '\n' ' '); rm -rf $$s; \
	if [ $$rc -ne 0 ]; then exit $$rc; fi; \
	if [ -n "$$left" ]; then echo "notebook examples left scratch files behind: $$left"; exit 1; fi

TEST_WORKERS ?= 2
pytest: install browser  ## package, CLI, fault, dashboard and real-browser tests, on TEST_WORKERS processes (pytest-xdist)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup

test: nbtest pytest

screenshots: install browser  ## the README's pictures: every page in Chromium on the `make demo` run store
	AML_NB_BROWSER_RUNS=runs/demo AML_NB_SHOTS=docs/screenshots AML_NB_LOAD_SESSIONS=8 \
	  AML_NB_LOAD_OUT=bench/results/dashboard_load_cpu/load.json $(BIN)/python -m pytest -q tests/test_browser.py

sync: install  ## clean notebook metadata, then regenerate aml_nb/ from nbs/ (this order keeps cell ids stable)
	$(BIN)/nbdev_clean && $(BIN)/nbdev_export

clean:
	rm -rf runs data test-artifacts
