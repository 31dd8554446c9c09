#!/bin/bash
# The rounds of rule2.md. Usage (repository root): bash .../run_rule2.sh OUT PREVIOUS_WORKTREE
OUT=$1; PREV=$2; mkdir -p "$OUT"
HERE=$(pwd)
for i in $(seq 1 10); do
  for alloc in default keep; do
    if [ $alloc = keep ]; then
      export MALLOC_MMAP_THRESHOLD_=268435456 MALLOC_TRIM_THRESHOLD_=1073741824
    else
      unset MALLOC_MMAP_THRESHOLD_ MALLOC_TRIM_THRESHOLD_
    fi
    ARGS=(--groups conv-32 conv-64 --repeats 30 --onnxruntime)
    DR1MASK_CPU_KERNELS=1 .venv/bin/python tools/analysis_tools/benchmark_components.py \
      "${ARGS[@]}" --out "$OUT/${alloc}_new_run$i.json"
    (cd "$PREV" && PYTHONPATH="$PREV" DR1MASK_CPU_KERNELS=1 "$HERE/.venv/bin/python" \
      tools/analysis_tools/benchmark_components.py "${ARGS[@]}" --out "$HERE/$OUT/${alloc}_prev_run$i.json")
    DR1MASK_CPU_KERNELS=0 .venv/bin/python tools/analysis_tools/benchmark_components.py \
      "${ARGS[@]}" --out "$OUT/${alloc}_nchw_run$i.json"
  done
done
