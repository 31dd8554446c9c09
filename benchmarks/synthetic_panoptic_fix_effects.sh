#!/usr/bin/env bash
# What the fidelity fixes that act at inference move on the synthetic panoptic benchmark:
# re-evaluates the checkpoints of a finished `benchmarks/synthetic_panoptic_pq.sh` run with
# the old behaviour put back through config options, one at a time.
#
#   bash benchmarks/synthetic_panoptic_fix_effects.sh WORK_DIR [ITERS]
#
# - score scale: the thresholds the tiny configs give (0.3) applied to cls*ctr instead of
#   sqrt(cls*ctr), i.e. 0.3 ** 0.5 = 0.5477 on today's scale (DR1Mask's thing threshold,
#   BlendMask's instance_score_thr);
# - K-Net's merge with the stuff filters the official merge never reads (score 0.05, area
#   64 px as the tiny config had).
# The training-side fixes (no Scale, threshold on cls*ctr, P2-P5 semantic head, no weight
# decay on norm layers) change the trained weights and cannot be undone at inference.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK_DIR=$1
ITERS=${2:-3000}
PY=${PY:-.venv/bin/python}
DATA="$WORK_DIR/data/"
source benchmarks/synthetic_common.sh
OLD_THR=0.5477
KEYS=(coco_panoptic/PQ coco_panoptic/PQ_th coco_panoptic/PQ_st coco/segm_mAP coco/bbox_mAP)

run() {  # run NAME OUT_NAME CFG_OPTION...
  local name=$1 out=$2
  shift 2
  test_tiny "$WORK_DIR/$name" "$name" "$WORK_DIR/$name/$out" "$@" > "$WORK_DIR/$name/$out.log" 2>&1
  print_metrics "$name+$out" "$(ls -t "$WORK_DIR/$name/$out"/*/*.json | head -1)" "${KEYS[@]}"
}

run dr1mask_r18_fpn_tiny_synthetic-panoptic old-score-scale \
  model.panoptic_head.score_thr=$OLD_THR
run blendmask_r18_fpn_tiny_synthetic-panoptic old-score-scale \
  model.instance_score_thr=$OLD_THR
run knet-s3_r18_fpn_tiny_synthetic-panoptic old-stuff-filters \
  model.iter_head.stuff_score_thr=0.05 model.iter_head.stuff_max_area=64
