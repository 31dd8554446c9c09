"""Kernel time per photo by ONNX operator in an ONNX Runtime profile.

Usage: python ort_profile_ops.py PROFILE.json [TOP]
The profile is what ``SessionOptions(enable_profiling=True)`` writes (for instance by
``docs/benchmark_results/dr1conv_channels_last_2026-12-04/ort_profile.py``); node events
are assigned to the session runs (``model_run``) they fall in, the first run is skipped
(warm-up) and the sums are averaged over the others.
"""
import collections
import json
import sys

with open(sys.argv[1]) as f:
    events = json.load(f)
top = int(sys.argv[2]) if len(sys.argv) > 2 else 12
runs = sorted((e['ts'], e['ts'] + e['dur']) for e in events
              if e.get('cat') == 'Session' and e['name'] == 'model_run')[1:]
per_op = collections.Counter()
for e in events:
    if e.get('cat') == 'Node' and e['name'].endswith('_kernel_time') and \
            any(start <= e['ts'] <= end for start, end in runs):
        per_op[e['args'].get('op_name')] += e['dur']
total = sum(per_op.values())
print(f'{len(runs)} runs; kernel time per photo {total / len(runs) / 1e3:.1f} ms')
for op, us in per_op.most_common(top):
    print(f'{op:24s} {us / len(runs) / 1e3:8.1f} ms')
