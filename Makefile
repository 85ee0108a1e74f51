# Two commands do all the set-up (README): `make study` and `make test`.
# Both create .venv if it is missing and install the pinned environment into it.

PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export DVC_NO_ANALYTICS := 1
# The same CPU kernels on every AVX-512 processor (inkgen/_cpu_kernels.py): MKL reads MKL_CBWR from the
# environment a process starts with, so it is set here, for `dvc repro` and every notebook kernel it starts.
export MKL_CBWR ?= AVX512
export ONEDNN_MAX_CPU_ISA ?= AVX512_CORE
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: study test setup clean-study lab plots restore

setup: $(STAMP)

$(STAMP): requirements.txt constraints.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null || { echo "need Python 3.11: put python3.11 on PATH or run: make PYTHON=/path/to/python3.11"; exit 1; }
	@if [ -x $(BIN)/python ] && ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then echo "$(VENV) is not a Python 3.11 environment: remove it and run again"; exit 1; fi
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name inkgen --display-name "inkgen (Python 3.11)"
	$(BIN)/inkgen plots-template
	touch $(STAMP)

# The study on the embedded default (procedural corpus, CPU, offline).
study: setup
	$(BIN)/dvc repro

# Unit tests and the end-to-end smoke of `dvc repro` on the smoke profile, in two worker processes: the
# smoke module (its stages on one thread each: profiles.smoke) runs on one while the other takes every other
# file; more workers would not shorten it (tests/conftest.py). --no-loadscope-reorder keeps the files in the
# order conftest.py puts them (smoke first): xdist would otherwise start the files with the most tests first,
# and the smoke module (14 tests) two minutes late.
test: setup
	$(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder

clean-study:
	rm -rf data models reports

# JupyterLab on the executed notebooks (the study's pages), with the `inkgen` kernel of .venv.
lab: setup
	@test -d reports/notebooks || echo "no executed notebooks yet: run make study (or dvc pull); opening notebooks/"
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) $(if $(wildcard reports/notebooks/09_study.ipynb),reports/notebooks/09_study.ipynb,notebooks)

# `dvc plots show` with the offline page (.dvc/offline-plots.html, written by setup): dvc_plots/index.html
plots: setup
	$(BIN)/dvc plots show

# After a failed stage or experiment: the committed results (git) and the cached outputs (DVC) of HEAD.
restore:
	git checkout HEAD -- dvc.lock headline.json reports/metrics && $(BIN)/dvc checkout --force
