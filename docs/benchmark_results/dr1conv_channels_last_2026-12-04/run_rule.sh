#!/bin/bash
# The ten-run rule of rule.md. Usage (repository root): bash .../run_rule.sh OUT
OUT=$1; mkdir -p "$OUT"
for i in $(seq 1 10); do
  for alloc in default keep; do
    for k in 1 0; do
      if [ $alloc = keep ]; then
        export MALLOC_MMAP_THRESHOLD_=268435456 MALLOC_TRIM_THRESHOLD_=1073741824
      else
        unset MALLOC_MMAP_THRESHOLD_ MALLOC_TRIM_THRESHOLD_
      fi
      DR1MASK_CPU_KERNELS=$k .venv/bin/python tools/analysis_tools/benchmark_components.py \
        --groups conv-32 conv-64 --repeats 30 --onnxruntime --out "$OUT/${alloc}_k${k}_run$i.json"
    done
  done
done
