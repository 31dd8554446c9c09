#!/usr/bin/env bash
# One call of this workplace's lent GPU machine (docs/benchmarks.md §1.4). That machine
# has python3 with a CUDA torch, torchvision, onnxruntime, numpy and opencv, no
# OpenMMLab packages and no network. This script installs what was carried in .gpu/
# (prepared on the development machine, ignored by git):
#   .gpu/whl/     wheels of mmengine 0.10.7, mmdet 3.3.0, pycocotools, shapely and the
#                 pure-Python packages they import (pip download --python-version 3.12);
#   .gpu/mmcv/    mmcv 2.1.0's Python code from its source release, without the compiled
#                 ops, which get the torchvision stand-in (mmcv_ext_torchvision.py);
#   .gpu/np1/     numpy 1.26.4, used only if the stack fails to import with the machine's;
#   .gpu/images/  the first 55 photos of coco128-seg (.gpu/images20/: the first 20);
# Prepared with (repository root; .gpu/ is in .gitignore):
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
#     --platform manylinux2014_x86_64 -d .gpu/whl mmengine==0.10.7 mmdet==3.3.0 pycocotools \
#     addict yapf termcolor terminaltables platformdirs shapely panopticapi-lite \
#     setuptools==80.10.2   # mmengine imports pkg_resources, gone from setuptools 81
#   (the same with -d .gpu/np1 numpy==1.26.4), mmcv-2.1.0/mmcv of the source release
#   without ops/csrc copied to .gpu/mmcv, and the photos copied to .gpu/images*.
# It then checks the stand-in's ops against float64 references (check_ops.py) and runs
# benchmarks/gpu_speed.sh. Everything it writes goes to one archive, $OUT/gpu_results.tgz.
#
#   run(command="bash benchmarks/gpu/run_on_lent_gpu.sh", carry=[".gpu"])
#   run(command="CHECK_OPS=0 IMAGES=.gpu/images20 NUM_IMAGES=20 WARMUP=20 PROFILE=0 \
#       STEPS='instance panoptic' bash benchmarks/gpu/run_on_lent_gpu.sh", carry=[".gpu"])
set -uo pipefail
cd "$(dirname "$0")/../.."
: "${OUT:?OUT must name the folder whose files come back}"
RES=/tmp/gpu_results
SITE=/tmp/site
mkdir -p "$RES"
{
  nvidia-smi
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$SITE" \
    .gpu/whl/*.whl
  cp -r .gpu/mmcv "$SITE/mmcv"
  cp benchmarks/gpu/mmcv_ext_torchvision.py "$SITE/mmcv/_ext.py"
} >"$RES/setup.log" 2>&1
export PYTHONPATH="$SITE:$PWD" PYTHONUNBUFFERED=1
# The C++ kernels serve CPU tensors only; this keeps a GPU run from compiling them.
export DR1MASK_CPU_KERNELS=0
versions() {
  python3 - <<'PY'
import cv2, mmcv, mmdet, mmengine, numpy, onnxruntime, torch, torchvision
import mmdet_dr1mask.models  # noqa: F401  (registers the models)
from mmdet_dr1mask.support import load_config
load_config('mmdet::condinst/condinst_r50_fpn_ms-poly-90k_coco_instance.py')
print('torch', torch.__version__, 'cuda', torch.version.cuda, 'cudnn',
      torch.backends.cudnn.version(), torch.cuda.get_device_name())
print('torchvision', torchvision.__version__, 'numpy', numpy.__version__, 'cv2',
      cv2.__version__, 'mmcv', mmcv.__version__, 'mmdet', mmdet.__version__, 'mmengine',
      mmengine.__version__, 'onnxruntime', onnxruntime.__version__,
      onnxruntime.get_available_providers())
PY
}
# The machine's numpy 2 first; numpy 1.26.4 (.gpu/np1, the development machine's) if the
# OpenMMLab stack does not import with it.
if ! versions >"$RES/versions.txt" 2>&1; then
  cat "$RES/versions.txt"
  python3 -m pip install -q --no-index --no-deps --no-compile --target "$SITE" .gpu/np1/*.whl
  versions >"$RES/versions.txt" 2>&1
fi
cat "$RES/versions.txt"
status=0
if [[ ${CHECK_OPS:-1} == 1 ]]; then
  python3 benchmarks/gpu/check_ops.py --device cuda --out "$RES/ops.json" >"$RES/ops.log" 2>&1 \
    || { echo '!! check_ops failed'; status=1; }
  tail -3 "$RES/ops.log"
fi
# IMAGES, NUM_IMAGES, WARMUP, PROFILE and STEPS pass to gpu_speed.sh
STEP_TIMEOUT=${STEP_TIMEOUT:-100} PY=python3 bash benchmarks/gpu_speed.sh "$RES" \
  "${IMAGES:-.gpu/images}" "${NUM_IMAGES:-30}" || status=1
for f in "$RES"/*.md; do echo "--- $f"; sed -n "/^| model/,/^$/p" "$f"; done
for f in "$RES"/parts_*.log; do
  [[ -e $f ]] && { echo "--- $f"; grep -E "end to end|^  [a-z_]+\.[a-z_]+ " "$f"; }
done
tar czf "$OUT/gpu_results.tgz" -C "$RES" --exclude onnx .
exit $status
