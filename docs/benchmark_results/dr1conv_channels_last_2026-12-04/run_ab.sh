#!/bin/bash
# A/B of DR1Conv's inference paths, alternating processes: DR1MASK_CPU_KERNELS=1 (the
# channels-last C++ path) and =0 (the NCHW path: BN folded, activation and B in place).
# "default": glibc as it is; "keep": glibc told to keep freed memory (no page faults).
# Usage (repository root): bash docs/benchmark_results/dr1conv_channels_last_2026-12-04/run_ab.sh OUT N
OUT=$1; N=${2:-4}; mkdir -p "$OUT"
for i in $(seq 1 "$N"); do
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
