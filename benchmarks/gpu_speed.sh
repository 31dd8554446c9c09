#!/usr/bin/env bash
# Instance and panoptic speed on a CUDA GPU in FP32 and FP16 (autocast), with peak CUDA
# memory (docs/benchmarks.md §1.4). R-50 everywhere, random weights, 100 forced detections
# per image (--same-detections), the COCO test size, every model interleaved image by image
# in one process:
#   1. instance: DR1Mask 1x against BlendMask, CondInst, Mask R-CNN and K-Net-s3;
#   2. panoptic: DR1Mask 1x panoptic against its instance model and two-branch BlendMask;
#   3. component costs (DR1Conv against a plain conv at D = 32, 64 and 256, the bases, the
#      blenders), FP32;
#   4. where ONNX Runtime has its CUDA provider: DR1Mask and BlendMask as their ONNX graphs
#      beside PyTorch (FP32);
#   5. the synchronised wall time of each part of DR1Mask, BlendMask, CondInst and the two
#      panoptic models (benchmarks/gpu/part_times.py), FP32, with cuDNN's algorithm search
#      off (MMDetection's default) and on.
# Each step runs even if one before it failed; the script fails if any did.
# WARMUP (default 5) untimed images first: with as many as NUM_IMAGES and a folder of
# NUM_IMAGES photos, every timed image has a size the models have seen once (cuDNN's
# choice of kernels and the caching allocator's growth for a new size are then outside
# the times). PROFILE (default 2) profiled images; STEPS (default all) a subset of
# "instance panoptic components onnxruntime parts"; PRECISIONS (default "fp32 fp16") and
# SEARCH (default "off on", cuDNN's algorithm search in step 5) subsets of theirs.
#
#   [WARMUP=5] [PROFILE=2] [STEPS=...] bash benchmarks/gpu_speed.sh OUT_DIR IMAGES [NUM_IMAGES]
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?usage: bash benchmarks/gpu_speed.sh OUT_DIR IMAGES [NUM_IMAGES]}
IMAGES=${2:?usage: bash benchmarks/gpu_speed.sh OUT_DIR IMAGES [NUM_IMAGES]}
NUM=${3:-50}
PY=${PY:-.venv/bin/python}
mkdir -p "$OUT"
failed=0
step() {  # step NAME COMMAND...: runs COMMAND, its output in OUT/NAME.log
  echo "== $1: ${*:2}" | tee "$OUT/$1.log"
  local t0=$SECONDS
  timeout "${STEP_TIMEOUT:-900}" "${@:2}" >>"$OUT/$1.log" 2>&1 || { echo "!! $1 failed" | tee -a "$OUT/$1.log"; failed=1; }
  echo "   $1: $((SECONDS - t0)) s"
}
BENCH=("$PY" tools/analysis_tools/benchmark.py --images "$IMAGES" --num-images "$NUM"
       --warmup "${WARMUP:-5}" --same-detections --device cuda --profile "${PROFILE:-2}")
STEPS=${STEPS:-instance panoptic components onnxruntime parts}
wanted() { [[ " $STEPS " == *" $1 "* ]]; }
INSTANCE=(configs/dr1mask/dr1mask_r50_fpn_1x_coco.py --compare
          configs/blendmask/blendmask_r50_fpn_1x_coco.py
          mmdet::condinst/condinst_r50_fpn_ms-poly-90k_coco_instance.py
          mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py configs/knet/knet-s3_r50_fpn_1x_coco.py)
PANOPTIC=(configs/dr1mask/dr1mask_r50_fpn_1x_coco-panoptic.py --compare
          configs/dr1mask/dr1mask_r50_fpn_1x_coco.py
          configs/blendmask/blendmask_r50_fpn_1x_coco-panoptic.py)
for precision in ${PRECISIONS:-fp32 fp16}; do
  flag=(); [[ $precision == fp16 ]] && flag=(--fp16)
  wanted instance && step "instance_$precision" "${BENCH[@]}" "${INSTANCE[@]}" "${flag[@]}" \
    --out "$OUT/instance_$precision.json" --markdown "$OUT/instance_$precision.md"
  wanted panoptic && step "panoptic_$precision" "${BENCH[@]}" "${PANOPTIC[@]}" "${flag[@]}" \
    --out "$OUT/panoptic_$precision.json" --markdown "$OUT/panoptic_$precision.md"
done
wanted components && step components "$PY" tools/analysis_tools/benchmark_components.py --device cuda \
  --groups conv-32 conv-64 conv-256 basis blender --repeats 50 --warmup 10 \
  --out "$OUT/components.json"
if ! wanted onnxruntime; then
  :
elif "$PY" -c 'import onnxruntime as o, sys; sys.exit("CUDAExecutionProvider" not in o.get_available_providers())'; then
  step onnxruntime "${BENCH[@]}" configs/dr1mask/dr1mask_r50_fpn_1x_coco.py \
    --compare configs/blendmask/blendmask_r50_fpn_1x_coco.py --backends pytorch onnxruntime \
    --onnx-dir "$OUT/onnx" --out "$OUT/onnxruntime.json" --markdown "$OUT/onnxruntime.md"
else
  echo "== onnxruntime: skipped, ONNX Runtime has no CUDAExecutionProvider here" | tee "$OUT/onnxruntime.log"
fi
if wanted parts; then
  for search in ${SEARCH:-off on}; do
    flag=(); [[ $search == on ]] && flag=(--cudnn-benchmark)
    step "parts_cudnn_benchmark_$search" "$PY" benchmarks/gpu/part_times.py \
      configs/dr1mask/dr1mask_r50_fpn_1x_coco.py configs/blendmask/blendmask_r50_fpn_1x_coco.py \
      mmdet::condinst/condinst_r50_fpn_ms-poly-90k_coco_instance.py \
      configs/dr1mask/dr1mask_r50_fpn_1x_coco-panoptic.py \
      configs/blendmask/blendmask_r50_fpn_1x_coco-panoptic.py --images "$IMAGES" \
      --num-images "$NUM" --warmup "${WARMUP:-5}" "${flag[@]}" \
      --out "$OUT/parts_cudnn_benchmark_$search.json"
  done
fi
exit $failed
