"""DR1Conv's nodes in ONNX Runtime's profile of an exported DR1Mask graph.

Usage: python ort_profile_dr1conv.py PROFILE.json
PROFILE.json is what ``onnxruntime.SessionOptions(enable_profiling=True)`` writes for a
session of a graph from ``tools/deployment/export_onnx.py``; the first run of each node
is skipped (warm-up) and the others averaged. For every ``dr1_convs.L`` prints the nodes
from its first product to its last in execution order (with the reorders ONNX Runtime put
around its NCHWc convolution) and the ratio of all of them to the convolution with its
reorders alone.
"""
import collections
import json
import re
import sys

with open(sys.argv[1]) as f:
    events = [e for e in json.load(f) if e.get('cat') == 'Node' and
              e['name'].endswith('_kernel_time')]
order, durations, ops = [], collections.defaultdict(list), {}
for e in events:
    name = e['name'][:-len('_kernel_time')]
    if name not in ops:
        order.append(name)
    ops[name] = e['args'].get('op_name')
    durations[name].append(e['dur'])
mean = {n: sum(d[1:]) / max(1, len(d) - 1) for n, d in durations.items()}
levels = sorted({m.group(1) for n in order if (m := re.search(r'dr1_convs\.(\d+)/', n))})
for level in levels:
    idx = [i for i, n in enumerate(order) if f'dr1_convs.{level}/' in n]
    nodes = order[idx[0]:idx[-1] + 1]
    conv = sum(mean[n] for n in nodes if ops[n] in ('Conv', 'ReorderInput', 'ReorderOutput'))
    total = sum(mean[n] for n in nodes)
    print(f'dr1_convs.{level}: ' + ', '.join(f'{ops[n]} {mean[n] / 1e3:.3f}' for n in nodes) +
          f' ms; all / conv with reorders = {total / conv:.3f}')
