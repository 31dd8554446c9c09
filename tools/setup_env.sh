#!/usr/bin/env bash
# Set up .venv with torch, mmcv (compiled ops), mmdet, mmengine, this package (editable)
# and the test tools. Safe to run again: a second run checks and changes nothing.
#
# Variables:
#   VENV          where the environment lives (default .venv)
#   PYTHON        interpreter that creates it (default python3)
#   TORCH_SPEC    pip spec used when no torch is importable in $VENV
#                 (default torch==2.13.0, the CPU build; a CUDA user installs their own
#                 torch into $VENV first, or sets e.g. TORCH_SPEC="torch==2.1.2 --index-url ...")
#   MMCV_SPEC     mmcv release installed when no usable mmcv is importable (mmcv==2.1.0):
#                 OpenMMLab's prebuilt wheel for the torch/CUDA at hand where there is one
#                 (as `mim install`), else compiled from source
#   MMCV_BASE_URL where OpenMMLab's mmcv wheels are (mim's variable; https://download.openmmlab.com)
#   MAX_JOBS      parallel compile jobs for mmcv (default: number of cores)
#   FORCE_CUDA=1  build mmcv's CUDA ops even where no GPU is visible (needs nvcc)
# A torch and an mmcv already in $VENV (or in an existing environment given as VENV) are
# kept: no requirement here names torch, so pip never replaces a CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
MMCV_SPEC=${MMCV_SPEC:-mmcv==2.1.0}
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check -q)
STAMP="$VENV/.mmdet_dr1mask-setup"

say() { printf '[setup] %s\n' "$*"; }

if [ ! -x "$PY" ]; then
  say "creating $VENV with $($PYTHON --version 2>&1)"
  "$PYTHON" -m venv "$VENV"
fi

# Everything below is skipped when nothing it depends on changed since the last run.
fingerprint=$(cat requirements/*.txt setup.cfg setup.py tools/setup_env.sh | sha256sum | cut -c1-16)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$fingerprint" ] && PYTHONWARNINGS=ignore "$PY" -c \
    'import torch, mmcv._ext, mmdet, mmengine, mim, mmdet_dr1mask' 2>/dev/null; then
  say "up to date ($VENV): torch $("$PY" -c 'import torch; print(torch.__version__)'), nothing to do"
  exit 0
fi

if "$PY" -c 'import torch' 2>/dev/null; then
  say "keeping the installed torch $("$PY" -c 'import torch; print(torch.__version__)')"
else
  say "installing $TORCH_SPEC"
  # shellcheck disable=SC2086  # TORCH_SPEC may carry pip options such as --index-url
  "${PIP[@]}" install $TORCH_SPEC
fi

"${PIP[@]}" install -r requirements/build.txt 'numpy<2'
# openmim 0.3.9 declares `opendatalab` (via openxlab it pins setuptools~=60.2 and breaks
# torch >= 2.6's requirement); mim never imports it, so install openmim without it, with
# its real imports (requirements/optional.txt). mim is needed below: its link to
# OpenMMLab's mmcv wheels.
"${PIP[@]}" install -r requirements/optional.txt
"${PIP[@]}" install --no-deps openmim==0.3.9

mmcv_ok() {
  "$PY" - <<'PY' 2>/dev/null
import mmcv, mmcv._ext  # the compiled ops
from packaging.version import Version
assert Version('2.0.0') <= Version(mmcv.__version__) < Version('2.2.0')
PY
}
if mmcv_ok; then
  say "keeping the installed mmcv $("$PY" -c 'import mmcv; print(mmcv.__version__)') (compiled ops present)"
else
  # What `mim install mmcv` does: look in OpenMMLab's wheels for this torch and CUDA first
  # (torch 2.0 and 2.1 have mmcv 2.1.0 wheels); pip compiles the source release otherwise.
  find_link=$(PYTHONWARNINGS=ignore "$PY" -c 'import os
from mim.commands.install import get_mmcv_full_find_link
from mim.utils import DEFAULT_MMCV_BASE_URL
print(get_mmcv_full_find_link(os.environ.get("MMCV_BASE_URL", DEFAULT_MMCV_BASE_URL)))')
  say "installing $MMCV_SPEC: OpenMMLab's prebuilt wheel for this torch if $find_link"
  say "lists one, else built with its compiled ops from source: about 15 minutes on 2 cores"
  say "(pip caches the built wheel, so later set-ups with the same torch take seconds)"
  cache_flag=()
  # pip's wheel cache does not know which torch a cached mmcv was compiled against:
  # reuse it only for the default CPU torch.
  if [ "$("$PY" -c 'import torch; print(torch.__version__)')" != "2.13.0+cpu" ]; then
    cache_flag=(--no-cache-dir)
  fi
  MAX_JOBS=${MAX_JOBS:-$(nproc)} "${PIP[@]}" install --no-build-isolation "${cache_flag[@]}" \
    -f "$find_link" "$MMCV_SPEC" 'numpy<2' 'opencv-python<4.11' 'mmengine>=0.10.0,<0.11.0'
  mmcv_ok || { say "mmcv installed but its compiled ops do not import"; exit 1; }
fi

say "installing mmdet, mmengine, runtime, deployment and test requirements"
"${PIP[@]}" install -r requirements/mminstall.txt -r requirements/runtime.txt \
  -r requirements/tests.txt -r requirements/deploy.txt
# Earlier set-ups linked the checkout into site-packages for mim; remove such a link, so
# that this environment is the one a fresh set-up makes (the editable install below).
site=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
if [ -L "$site/mmdet_dr1mask" ]; then
  rm "$site/mmdet_dr1mask"
fi
say "installing mmdet_dr1mask in editable mode"
"${PIP[@]}" install --no-deps --no-build-isolation -e .

PYTHONWARNINGS=ignore "$PY" -c 'import torch, mmcv._ext, mmdet, mmengine, mim, mmdet_dr1mask'
say "building the CPU kernels (about 50 s; cached in PyTorch's extension folder)"
PYTHONWARNINGS=ignore "$PY" -c 'from mmdet_dr1mask.models.seg_heads.panoptic_kernels import cpu_kernels
from mmdet_dr1mask.models.layers.dr1_conv_kernels import dr1_conv_kernels
if cpu_kernels() is None or dr1_conv_kernels() is None:
    print("could not build them: the tensor forms will run instead")'
echo "$fingerprint" > "$STAMP"
say "done: torch $("$PY" -c 'import torch; print(torch.__version__)'), mmcv \
$("$PY" -c 'import mmcv; print(mmcv.__version__)'), mmdet $("$PY" -c 'import mmdet; print(mmdet.__version__)')"
