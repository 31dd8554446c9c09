#!/usr/bin/env bash
# Cost of DR1Mask's panoptic layer at R-50 (random weights, 100 forced detections): the
# panoptic config against the same config with its panoptic layer removed (so the instance
# part, blender attention included, is the same model) and two-branch panoptic BlendMask,
# side by side in one process on coco128-seg photos at the COCO test size, by
# tools/analysis_tools/benchmark.py.
# Row 1 / row 2 is the panoptic-over-instance overhead, row 1 / row 3 the ratio to the
# two-branch system.
#
#   bash benchmarks/panoptic_layer_cost_r50.sh [OUT_DIR] [NUM_IMAGES] [PANOPTIC_CONFIG]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-work_dirs/panoptic_layer_cost_r50}
NUM_IMAGES=${2:-10}
CONFIG=${3:-configs/dr1mask/dr1mask_r50_fpn_1x_coco-panoptic.py}
IMAGES=${IMAGES:-../shared/data/coco128-seg/images/train2017}
PY=${PY:-.venv/bin/python}
NAME=$(basename "$CONFIG" .py)
mkdir -p "$OUT"
"$PY" - "$CONFIG" "$OUT/${NAME}_without-panoptic-layer.py" <<'PY'
import sys
from mmengine.config import Config
cfg = Config.fromfile(sys.argv[1])
cfg.model.panoptic_head = None
cfg.dump(sys.argv[2])
PY
"$PY" tools/analysis_tools/benchmark.py "$CONFIG" \
  --compare "$OUT/${NAME}_without-panoptic-layer.py" \
  configs/blendmask/blendmask_r50_fpn_1x_coco-panoptic.py \
  --images "$IMAGES" --num-images "$NUM_IMAGES" --warmup 2 --same-detections \
  --out "$OUT/panoptic_layer_cost.json" --markdown "$OUT/panoptic_layer_cost.md"
