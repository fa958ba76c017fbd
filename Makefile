# aml_nb: `make demo` sets up and runs the main job; `make test` runs every test. Nothing else is needed first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat settings.ini setup.py | cksum | cut -d' ' -f1)
export HF_HUB_OFFLINE ?= 1

.PHONY: install demo app test nbtest pytest sync clean

$(STAMP): settings.ini setup.py
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "aml_nb needs Python >= 3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -e ".[dev]"
	rm -f $(VENV)/.installed-*; touch $(STAMP)

install: $(STAMP)

demo: install  ## synthetic cohort, quick comparison + ablation, fairness and Grad-CAM summaries, then the dashboard
	$(BIN)/aml-nb demo

app: install
	$(BIN)/aml-nb app --runs runs/demo

nbtest: install  ## the examples in the notebooks
	$(BIN)/nbdev_test --n_workers 2

pytest: install  ## package, CLI, fault and dashboard tests
	$(BIN)/python -m pytest -q

test: nbtest pytest

sync: install  ## clean notebook metadata, then regenerate aml_nb/ from nbs/ (this order keeps cell ids stable)
	$(BIN)/nbdev_clean && $(BIN)/nbdev_export

clean:
	rm -rf runs data test-artifacts
