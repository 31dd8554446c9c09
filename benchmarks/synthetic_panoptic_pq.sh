#!/usr/bin/env bash
# Panoptic DR1Mask vs two-branch panoptic BlendMask and K-Net, tiny models trained the same
# way on the synthetic shapes dataset (CPU, minutes): PQ, PQ_th, PQ_st and mask AP of each.
#
#   bash benchmarks/synthetic_panoptic_pq.sh [WORK_DIR] [ITERS]
#
# Writes the dataset (128 train / 32 val images of 192x256, seed 0) to WORK_DIR/data, trains
# configs/{dr1mask,blendmask,knet}/*_r18_fpn_tiny_synthetic-panoptic.py for ITERS iterations
# (default 600, batch 4, lr / 10 at 5/6; SGD lr 0.01, K-Net its own AdamW lr 1e-3) and
# evaluates each on the val split; DR1Mask is evaluated a second time with its thing
# channels confined to their boxes (`things_in_boxes`, not in the paper).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK_DIR=${1:-work_dirs/synthetic_panoptic_pq}
ITERS=${2:-600}
PY=${PY:-.venv/bin/python}
DATA="$WORK_DIR/data/"

"$PY" tools/misc/generate_synthetic_dataset.py "$DATA" --splits train:128 val:32 \
  --img-size 192 256 --max-things 6 --crowd-prob 0.2 --void-prob 0.2 --seed 0

CONFIGS=(configs/dr1mask/dr1mask_r18_fpn_tiny_synthetic-panoptic.py
         configs/blendmask/blendmask_r18_fpn_tiny_synthetic-panoptic.py
         configs/knet/knet-s3_r18_fpn_tiny_synthetic-panoptic.py)
for config in "${CONFIGS[@]}"; do
  name=$(basename "$config" .py)
  "$PY" tools/train.py "$config" --work-dir "$WORK_DIR/$name" --cfg-options \
    train_cfg.max_iters="$ITERS" train_cfg.val_interval="$ITERS" \
    param_scheduler.1.end="$ITERS" "param_scheduler.1.milestones=[$((ITERS * 5 / 6))]" \
    train_dataloader.dataset.data_root="$DATA" val_dataloader.dataset.data_root="$DATA" \
    test_dataloader.dataset.data_root="$DATA" \
    val_evaluator.0.ann_file="${DATA}annotations/panoptic_val.json" \
    val_evaluator.0.seg_prefix="${DATA}annotations/panoptic_val/" \
    val_evaluator.1.ann_file="${DATA}annotations/instances_val.json" \
    default_hooks.checkpoint.interval="$ITERS"
done

# DR1Mask's checkpoint once more with each thing channel confined to its box (not in the
# paper; DR1PanopticHead(things_in_boxes=True), inference only)
DR1=dr1mask_r18_fpn_tiny_synthetic-panoptic
"$PY" tools/test.py "$WORK_DIR/$DR1/$DR1.py" "$WORK_DIR/$DR1/iter_$ITERS.pth" \
  --work-dir "$WORK_DIR/$DR1/things-in-boxes" --cfg-options \
  model.panoptic_head.things_in_boxes=True test_dataloader.dataset.data_root="$DATA" \
  test_evaluator.0.ann_file="${DATA}annotations/panoptic_val.json" \
  test_evaluator.0.seg_prefix="${DATA}annotations/panoptic_val/" \
  test_evaluator.1.ann_file="${DATA}annotations/instances_val.json"

# the last evaluation of each run
for run in "${CONFIGS[@]}" things-in-boxes; do
  if [[ $run == things-in-boxes ]]; then
    name=$DR1+things-in-boxes
    log=$(ls -t "$WORK_DIR/$DR1/things-in-boxes"/*/*.json | head -1)
  else
    name=$(basename "$run" .py)
    log=$(ls -t "$WORK_DIR/$name"/*/vis_data/scalars.json | head -1)
  fi
  "$PY" - "$name" "$log" <<'PY'
import json, sys
name, log = sys.argv[1], sys.argv[2]
last = [json.loads(l) for l in open(log) if 'coco_panoptic/PQ' in l][-1]
keys = ['coco_panoptic/PQ', 'coco_panoptic/PQ_th', 'coco_panoptic/PQ_st', 'coco/segm_mAP',
        'coco/bbox_mAP']
print(name, ' '.join(f'{k.split("/")[1]}={last[k]:.3f}' for k in keys))
PY
done
