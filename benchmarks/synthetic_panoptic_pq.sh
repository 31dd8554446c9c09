#!/usr/bin/env bash
# Panoptic DR1Mask vs two-branch panoptic BlendMask and K-Net, tiny models trained the same
# way on the synthetic shapes dataset (CPU, minutes): PQ, PQ_th, PQ_st and mask AP of each.
#
#   [SEED=N] [VARIANT=varied] [MODELS="dr1mask blendmask ..."] \
#     bash benchmarks/synthetic_panoptic_pq.sh [WORK_DIR] [ITERS]
#
# Writes the dataset (128 train / 32 val images of 192x256, seed 0) to WORK_DIR/data, trains
# configs/{dr1mask,blendmask,knet}/*_r18_fpn_tiny_synthetic-panoptic.py for ITERS iterations
# (default 600, batch 4, lr / 10 at 5/6; SGD lr 0.01, K-Net its own AdamW lr 1e-3) and
# evaluates each on the val split; DR1Mask is evaluated a second time with its thing
# channels confined to their boxes (`things_in_boxes`, not in the paper). SEED is the
# training seed (default 0, the configs' own); the data stay the same. VARIANT=varied
# draws every thing instance with its own colour, pattern scale and orientation (same
# shapes and annotations as the default, where all instances of a class look alike).
# MODELS picks the models (default "dr1mask blendmask knet"; also
# dr1mask-things-in-boxes: trained and tested with each thing channel confined to its box;
# dr1mask-position-prior: thing logits fall with the distance to the box centre).
# CFG_OPTIONS adds config options to every training (e.g. "model.basis_head.channels=16").
set -euo pipefail
cd "$(dirname "$0")/.."
WORK_DIR=${1:-work_dirs/synthetic_panoptic_pq}
ITERS=${2:-600}
PY=${PY:-.venv/bin/python}
DATA="$WORK_DIR/data/"
source benchmarks/synthetic_common.sh
case ${VARIANT:-alike} in
  alike) VARIANT_FLAG=() ;;
  varied) VARIANT_FLAG=(--varied-instances) ;;
  *) echo "VARIANT must be alike or varied, got $VARIANT" >&2; exit 2 ;;
esac

declare -A TINY=(
  [dr1mask]=configs/dr1mask/dr1mask_r18_fpn_tiny_synthetic-panoptic.py
  [blendmask]=configs/blendmask/blendmask_r18_fpn_tiny_synthetic-panoptic.py
  [knet]=configs/knet/knet-s3_r18_fpn_tiny_synthetic-panoptic.py
  [dr1mask-things-in-boxes]=configs/dr1mask/dr1mask_r18_fpn_tiny_synthetic-panoptic_things-in-boxes.py
  [dr1mask-position-prior]=configs/dr1mask/dr1mask_r18_fpn_tiny_synthetic-panoptic_position-prior.py)
CONFIGS=()
for model in ${MODELS:-dr1mask blendmask knet}; do
  if [[ -z ${TINY[$model]:-} ]]; then
    echo "MODELS: unknown model $model (known: ${!TINY[*]})" >&2
    exit 2
  fi
  CONFIGS+=("${TINY[$model]}")
done

"$PY" tools/misc/generate_synthetic_dataset.py "$DATA" --splits train:128 val:32 \
  --img-size 192 256 --max-things 6 --crowd-prob 0.2 --void-prob 0.2 --seed 0 \
  "${VARIANT_FLAG[@]}"

for config in "${CONFIGS[@]}"; do
  # shellcheck disable=SC2086  # CFG_OPTIONS is a list of key=value words
  train_tiny "$config" "$WORK_DIR/$(basename "$config" .py)" ${CFG_OPTIONS:-}
done

# DR1Mask's checkpoint once more with each thing channel confined to its box (not in the
# paper; DR1PanopticHead(things_in_boxes=True), inference only)
DR1=dr1mask_r18_fpn_tiny_synthetic-panoptic
if [[ " ${CONFIGS[*]} " == *"/$DR1.py "* ]]; then
  test_tiny "$WORK_DIR/$DR1" "$DR1" "$WORK_DIR/$DR1/things-in-boxes" \
    model.panoptic_head.things_in_boxes=True
fi

# the last evaluation of each run
KEYS=(coco_panoptic/PQ coco_panoptic/PQ_th coco_panoptic/PQ_st coco/segm_mAP coco/bbox_mAP)
for config in "${CONFIGS[@]}"; do
  name=$(basename "$config" .py)
  print_metrics "$name" "$(ls -t "$WORK_DIR/$name"/*/vis_data/scalars.json | head -1)" \
    "${KEYS[@]}"
done
if [[ -d "$WORK_DIR/$DR1/things-in-boxes" ]]; then
  print_metrics "$DR1+things-in-boxes" \
    "$(ls -t "$WORK_DIR/$DR1/things-in-boxes"/*/*.json | head -1)" "${KEYS[@]}"
fi
