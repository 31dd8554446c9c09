# One-command entry points. `make install` is safe to repeat.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install demo test lint

install:  ## create .venv with torch, mmcv (compiled ops), mmdet and this package
	bash tools/setup_env.sh

demo:  ## the main job: synthetic dataset -> pictures in work_dirs/demo
	$(PY) tools/run_demo.py --work-dir work_dirs/demo

test: lint  ## ruff, then the whole test suite (CPU, tiny models)
	$(PY) -m pytest -q

lint:
	$(VENV)/bin/ruff check .
