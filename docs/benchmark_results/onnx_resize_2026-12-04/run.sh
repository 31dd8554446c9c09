#!/bin/bash
# Panoptic DR1Mask R-50 1x, PyTorch against its ONNX graph (benchmark.py, random weights,
# 100 forced detections, coco128-seg photos), alternating between the graph whose
# panoptic resampling is one Resize (this commit's code) and the graph before it (a git
# worktree of the previous commit, PREV). Usage (repository root):
#   bash docs/benchmark_results/onnx_resize_2026-12-04/run.sh OUT PREV IMAGES NUM RUNS
OUT=$(realpath -m "$1"); PREV=$(realpath "$2"); IMAGES=$3; NUM=${4:-6}; RUNS=${5:-2}
HERE=$(pwd); mkdir -p "$OUT"
ARGS=(configs/dr1mask/dr1mask_r50_fpn_1x_coco-panoptic.py --images "$IMAGES" --num-images "$NUM"
      --warmup 2 --backends pytorch onnxruntime --same-detections)
for i in $(seq 1 "$RUNS"); do
  .venv/bin/python tools/analysis_tools/benchmark.py "${ARGS[@]}" --onnx-dir "$OUT/onnx_new" \
    --out "$OUT/new_run$i.json" --markdown "$OUT/new_run$i.md"
  (cd "$PREV" && PYTHONPATH="$PREV" "$HERE/.venv/bin/python" tools/analysis_tools/benchmark.py \
    "${ARGS[@]}" --onnx-dir "$OUT/onnx_prev" --out "$OUT/prev_run$i.json" \
    --markdown "$OUT/prev_run$i.md")
done
