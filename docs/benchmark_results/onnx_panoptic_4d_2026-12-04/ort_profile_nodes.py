"""Kernel time per photo of single nodes of given operator types in an ONNX Runtime profile.

Usage: python ort_profile_nodes.py PROFILE.json OP[,OP...] [TOP]
As ``onnx_resize_2026-12-04/ort_profile_ops.py``, but node by node: the first session run
is skipped (warm-up), the rest averaged; prints the TOP (10) slowest nodes of those types.
"""
import collections
import json
import sys

with open(sys.argv[1]) as f:
    events = json.load(f)
op_types = set(sys.argv[2].split(','))
top = int(sys.argv[3]) if len(sys.argv) > 3 else 10
runs = sorted((e['ts'], e['ts'] + e['dur']) for e in events
              if e.get('cat') == 'Session' and e['name'] == 'model_run')[1:]
per_node, op_of = collections.Counter(), {}
for e in events:
    if e.get('cat') == 'Node' and e['name'].endswith('_kernel_time') and \
            e['args'].get('op_name') in op_types and \
            any(start <= e['ts'] <= end for start, end in runs):
        name = e['name'][:-len('_kernel_time')]
        per_node[name] += e['dur']
        op_of[name] = e['args']['op_name']
for name, us in per_node.most_common(top):
    print(f'{us / len(runs) / 1e3:8.2f} ms  {op_of[name]:10s} {name}')
