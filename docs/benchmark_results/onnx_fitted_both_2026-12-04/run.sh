#!/bin/bash
# DR1Mask and BlendMask R-50 fitted to the same 8 photos (docs/benchmarks.md §4.1's recipe),
# PyTorch eager against their ONNX graphs, own thresholds and resize (short side 384),
# interleaved photo by photo in one process; RUNS runs. Then, for the machine's state, the
# random-weight COCO-size instance and panoptic R-50 1x graphs against PyTorch (100 forced
# detections), one run each. Usage (repository root, nothing else running):
#   bash docs/benchmark_results/onnx_fitted_both_2026-12-04/run.sh OUT DR1_DIR BLEND_DIR IMAGES [RUNS]
# DR1_DIR / BLEND_DIR: learning_benchmark.py work dirs of each model (config + iter_600.pth).
set -euo pipefail
OUT=$1; DR1=$2; BLEND=$3; IMAGES=$4; RUNS=${5:-3}
mkdir -p "$OUT"
PY=(.venv/bin/python tools/analysis_tools/benchmark.py)
COMMON=(--images "$IMAGES" --num-images 10 --warmup 2 --backends pytorch onnxruntime)
for i in $(seq 1 "$RUNS"); do
  "${PY[@]}" "$DR1/dr1mask_r50_fpn_1x_coco.py" "${COMMON[@]}" --checkpoint "$DR1/iter_600.pth" \
    --compare "$BLEND/blendmask_r50_fpn_1x_coco.py" --compare-checkpoints "$BLEND/iter_600.pth" \
    --onnx-dir "$OUT/onnx_fitted" --out "$OUT/fitted_run$i.json" --markdown "$OUT/fitted_run$i.md"
done
"${PY[@]}" configs/dr1mask/dr1mask_r50_fpn_1x_coco.py "${COMMON[@]}" --same-detections \
  --onnx-dir "$OUT/onnx_random" --out "$OUT/random_instance.json" --markdown "$OUT/random_instance.md"
"${PY[@]}" configs/dr1mask/dr1mask_r50_fpn_1x_coco-panoptic.py "${COMMON[@]}" --same-detections \
  --onnx-dir "$OUT/onnx_random" --out "$OUT/random_panoptic.json" --markdown "$OUT/random_panoptic.md"
