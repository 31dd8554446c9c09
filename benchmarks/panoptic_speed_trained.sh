#!/usr/bin/env bash
# Cost of DR1Mask's panoptic layer with trained weights: the tiny panoptic models of a
# finished `benchmarks/synthetic_panoptic_pq.sh` run, timed side by side on its val images
# with the configs' own thresholds (no forced detections); the models are built from the
# shipped configs (the run's checkpoints fit them), by
# tools/analysis_tools/benchmark.py:
#   1. DR1Mask panoptic (its checkpoint),
#   2. the same checkpoint without the panoptic layer (instance output only),
#   3. two-branch BlendMask panoptic (its checkpoint).
# Row 1 / row 2 is the panoptic-over-instance overhead, row 1 / row 3 the ratio to the
# two-branch system. Then the same three with every model's profile (--profile).
#
#   bash benchmarks/panoptic_speed_trained.sh WORK_DIR [ITERS] [NUM_IMAGES] [DR1MASK_CONFIG]
#
# DR1MASK_CONFIG: a config name under configs/dr1mask/ trained in WORK_DIR, by default the
# paper's dr1mask_r18_fpn_tiny_synthetic-panoptic (e.g. ..._position-prior for the variant).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK_DIR=$1
ITERS=${2:-3000}
NUM_IMAGES=${3:-32}
PY=${PY:-.venv/bin/python}
DR1=${4:-dr1mask_r18_fpn_tiny_synthetic-panoptic}
BLEND=blendmask_r18_fpn_tiny_synthetic-panoptic
OUT="$WORK_DIR/speed"
mkdir -p "$OUT"
# the instance-only model: the trained panoptic config with its panoptic layer removed
"$PY" - "configs/dr1mask/$DR1.py" "$OUT/${DR1}_without-panoptic-layer.py" <<'PY'
import sys
from mmengine.config import Config
cfg = Config.fromfile(sys.argv[1])
cfg.model.panoptic_head = None
cfg.dump(sys.argv[2])
PY
"$PY" tools/analysis_tools/benchmark.py "configs/dr1mask/$DR1.py" \
  --checkpoint "$WORK_DIR/$DR1/iter_$ITERS.pth" \
  --compare "$OUT/${DR1}_without-panoptic-layer.py" "configs/blendmask/$BLEND.py" \
  --compare-checkpoints "$WORK_DIR/$DR1/iter_$ITERS.pth" "$WORK_DIR/$BLEND/iter_$ITERS.pth" \
  --images "$WORK_DIR/data/val" --num-images "$NUM_IMAGES" --warmup 3 --profile 4 \
  --out "$OUT/trained_tiny_cpu.json" --markdown "$OUT/trained_tiny_cpu.md"
