#!/usr/bin/env bash
# PyTorch eager against ONNX Runtime on the CPU (docs/deployment.md, speed), side by side:
#   1. DR1Mask and BlendMask R-50 1x at the COCO test size (1333x800), random weights,
#      100 forced detections per image (--same-detections), each as PyTorch and as its
#      exported graph, interleaved image by image on the same photos;
#   2. panoptic DR1Mask R-50 3x the same way;
#   3. with FITTED_DIR (a learning_benchmark.py work dir holding dr1mask_r50_fpn_1x_coco/
#      and blendmask_r50_fpn_1x_coco/ with iter_600.pth): the fitted models at their own
#      thresholds and resize;
#   4. DR1Conv against a plain conv at D = 32 and 64, PyTorch and ONNX Runtime
#      (benchmark_components.py --onnxruntime);
#   5. panoptic DR1Mask 1x against its instance model and two-branch BlendMask panoptic
#      (PyTorch only for BlendMask: its panoptic graph is not exported).
#
#   [FITTED_DIR=DIR] bash benchmarks/onnx_speed.sh OUT_DIR IMAGES [NUM_IMAGES]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$1
IMAGES=$2
NUM=${3:-10}
PY=${PY:-.venv/bin/python}
mkdir -p "$OUT"
BENCH=("$PY" tools/analysis_tools/benchmark.py --images "$IMAGES" --num-images "$NUM"
       --warmup 2 --backends pytorch onnxruntime --onnx-dir "$OUT/onnx")
"${BENCH[@]}" configs/dr1mask/dr1mask_r50_fpn_1x_coco.py \
  --compare configs/blendmask/blendmask_r50_fpn_1x_coco.py --same-detections \
  --out "$OUT/instance_r50.json" --markdown "$OUT/instance_r50.md"
"${BENCH[@]}" configs/dr1mask/dr1mask_r50_fpn_ms-3x_coco-panoptic.py --same-detections \
  --out "$OUT/panoptic_r50.json" --markdown "$OUT/panoptic_r50.md"
if [[ -n ${FITTED_DIR:-} ]]; then
  F=$FITTED_DIR
  "${BENCH[@]}" "$F/dr1mask_r50_fpn_1x_coco/dr1mask_r50_fpn_1x_coco.py" \
    --checkpoint "$F/dr1mask_r50_fpn_1x_coco/iter_600.pth" \
    --compare "$F/blendmask_r50_fpn_1x_coco/blendmask_r50_fpn_1x_coco.py" \
    --compare-checkpoints "$F/blendmask_r50_fpn_1x_coco/iter_600.pth" \
    --out "$OUT/fitted_r50.json" --markdown "$OUT/fitted_r50.md"
fi
"$PY" tools/analysis_tools/benchmark_components.py --groups conv-32 conv-64 --repeats 30 \
  --onnxruntime --out "$OUT/dr1conv.json"
# panoptic over instance and against two-branch BlendMask with today's configs (random
# weights, forced detections; docs/benchmarks.md 1.2), DR1Mask also under ONNX Runtime
"${BENCH[@]}" configs/dr1mask/dr1mask_r50_fpn_1x_coco-panoptic.py \
  --compare configs/dr1mask/dr1mask_r50_fpn_1x_coco.py \
  configs/blendmask/blendmask_r50_fpn_1x_coco-panoptic.py --same-detections \
  --out "$OUT/panoptic_1x_r50.json" --markdown "$OUT/panoptic_1x_r50.md"
