#!/usr/bin/env bash
# Why DR1Mask's panoptic things trail BlendMask's on the synthetic shapes: re-evaluates the
# checkpoints of benchmarks/synthetic_panoptic_pq.sh with other inference thresholds, trains
# DR1Mask once more with a wider basis (D = 32 instead of 8) and evaluates it with and
# without `things_in_boxes`. One line per evaluation: the setting and PQ, PQ_th, SQ_th,
# RQ_th, PQ_st (RQ: the fraction of segments matched at IoU > 0.5, SQ: their mean IoU).
#
#   bash benchmarks/synthetic_panoptic_diagnostics.sh [WORK_DIR] [ITERS]
#
# WORK_DIR and ITERS must be those of the synthetic_panoptic_pq.sh run (its checkpoints and
# data are read from there).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK_DIR=${1:-work_dirs/synthetic_panoptic_pq}
ITERS=${2:-600}
PY=${PY:-.venv/bin/python}
DATA="$WORK_DIR/data/"
source benchmarks/synthetic_common.sh
DR1=dr1mask_r18_fpn_tiny_synthetic-panoptic
BLEND=blendmask_r18_fpn_tiny_synthetic-panoptic

evaluate() {  # RUN_NAME OUT_NAME [CFG_OPTION...]: RUN_NAME's checkpoint, results in OUT_NAME
  local run=$1 out=$2
  shift 2
  test_tiny "$WORK_DIR/$run" "$run" "$WORK_DIR/diagnostics/$out" "$@"
}

evaluate "$DR1" d8  # as trained: the defaults of the config
evaluate "$DR1" d8_things-in-boxes model.panoptic_head.things_in_boxes=True
evaluate "$BLEND" blendmask
evaluate "$DR1" d8_overlap0.3 model.panoptic_head.overlap_thr=0.3
for thr in 0.5 0.2 0.1; do
  evaluate "$DR1" "d8_score$thr" model.panoptic_head.score_thr=$thr
done
evaluate "$BLEND" blendmask_score0.2 model.instance_score_thr=0.2

# the same DR1Mask with a 32-channel basis and embedding
WIDE_RUN=${DR1}_d32
if [[ ! -f "$WORK_DIR/$WIDE_RUN/iter_$ITERS.pth" ]]; then
  train_tiny "configs/dr1mask/$DR1.py" "$WORK_DIR/$WIDE_RUN" model.basis_head.channels=32
fi
# train.py saved the config as trained under the config's name; evaluate() wants the run's
cp "$WORK_DIR/$WIDE_RUN/$DR1.py" "$WORK_DIR/$WIDE_RUN/$WIDE_RUN.py"
evaluate "$WIDE_RUN" d32
evaluate "$WIDE_RUN" d32_things-in-boxes model.panoptic_head.things_in_boxes=True

for out in d8 d8_things-in-boxes blendmask d8_overlap0.3 d8_score0.5 d8_score0.2 d8_score0.1 \
           blendmask_score0.2 d32 d32_things-in-boxes; do
  print_metrics "$out" "$(ls -t "$WORK_DIR/diagnostics/$out"/*/*.json | head -1)" \
    coco_panoptic/PQ coco_panoptic/PQ_th coco_panoptic/SQ_th coco_panoptic/RQ_th \
    coco_panoptic/PQ_st
done
