#!/bin/bash
# DR1Mask R-50 1x on CPU with glibc as it is ("default") and told to keep freed memory
# ("keep"), processes alternating (benchmark.py, random weights, 100 forced detections,
# six coco128-seg photos after two warm-up photos). Usage (repository root):
#   bash docs/benchmark_results/glibc_keep_memory_2026-12-04/run.sh OUT IMAGES
OUT=$(realpath -m "$1"); IMAGES=$2; mkdir -p "$OUT/pytorch" "$OUT/pytorch_and_onnxruntime"
ARGS=(configs/dr1mask/dr1mask_r50_fpn_1x_coco.py --images "$IMAGES" --num-images 6 --warmup 2
      --same-detections)
keep() { MALLOC_MMAP_THRESHOLD_=268435456 MALLOC_TRIM_THRESHOLD_=1073741824 "$@"; }
for i in 1 2 3; do
  .venv/bin/python tools/analysis_tools/benchmark.py "${ARGS[@]}" --out "$OUT/pytorch/default_run$i.json"
  keep .venv/bin/python tools/analysis_tools/benchmark.py "${ARGS[@]}" --out "$OUT/pytorch/keep_run$i.json"
done
for i in 1 2; do
  for alloc in default keep; do
    run=(.venv/bin/python tools/analysis_tools/benchmark.py "${ARGS[@]}" --backends pytorch onnxruntime
         --onnx-dir "$OUT/onnx" --out "$OUT/pytorch_and_onnxruntime/${alloc}_run$i.json")
    if [ $alloc = keep ]; then keep "${run[@]}"; else "${run[@]}"; fi
  done
done
