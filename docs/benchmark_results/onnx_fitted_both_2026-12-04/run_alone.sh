#!/bin/bash
# PyTorch eager and ONNX Runtime each alone in its own process (the graph with ONNX
# Runtime's default spinning threads, as deployed), processes alternating PyTorch / graph,
# RUNS pairs: DR1Mask R-50 fitted (own thresholds, short side 384), then random weights at
# the COCO size with 100 forced detections. Usage (repository root, nothing else running):
#   bash docs/benchmark_results/onnx_fitted_both_2026-12-04/run_alone.sh OUT DR1_DIR IMAGES [RUNS]
set -euo pipefail
OUT=$1; DR1=$2; IMAGES=$3; RUNS=${4:-3}
mkdir -p "$OUT"
PY=(.venv/bin/python tools/analysis_tools/benchmark.py)
COMMON=(--images "$IMAGES" --num-images 10 --warmup 2)
for i in $(seq 1 "$RUNS"); do
  for backend in pytorch onnxruntime; do
    "${PY[@]}" "$DR1/dr1mask_r50_fpn_1x_coco.py" "${COMMON[@]}" --checkpoint "$DR1/iter_600.pth" \
      --backends $backend --onnx-dir "$OUT/onnx_fitted" --out "$OUT/alone_fitted_${backend}_run$i.json"
  done
done
for i in $(seq 1 "$RUNS"); do
  for backend in pytorch onnxruntime; do
    "${PY[@]}" configs/dr1mask/dr1mask_r50_fpn_1x_coco.py "${COMMON[@]}" --same-detections \
      --backends $backend --onnx-dir "$OUT/onnx_random" --out "$OUT/alone_random_${backend}_run$i.json"
  done
done
