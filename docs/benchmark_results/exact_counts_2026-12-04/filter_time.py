"""Time duplicate-filter graphs in ONNX Runtime side by side, alternating.

Usage: python filter_time.py A.onnx B.onnx  (100 random rectangle masks of 480x640; 80
rounds, the order reversed every other round; median of rounds 4-80 and the minimum)
"""
import statistics
import sys
import time

import numpy as np
import onnxruntime as ort
import torch

gen = torch.Generator().manual_seed(0)
k, h, w = 100, 480, 640
masks = torch.zeros(k, h, w, dtype=torch.bool)
for i in range(k):
    y, x = torch.randint(0, h, (1, ), generator=gen).item(), \
        torch.randint(0, w, (1, ), generator=gen).item()
    dy, dx = torch.randint(20, 300, (2, ), generator=gen).tolist()
    masks[i, y:y + dy, x:x + dx] = True
feeds = dict(masks=masks.numpy(), areas=masks.flatten(1).sum(1).float().numpy(),
             candidates=np.ones(k, dtype=bool))
sessions = {}
for path in sys.argv[1:]:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    sessions[path] = ort.InferenceSession(path, options, providers=['CPUExecutionProvider'])
    print(path, 'kept', int((~sessions[path].run(None, feeds)[0]).sum()))
times = {path: [] for path in sessions}
for r in range(80):
    items = list(sessions.items())
    for path, session in (items if r % 2 == 0 else items[::-1]):
        start = time.perf_counter()
        session.run(None, feeds)
        times[path].append((time.perf_counter() - start) * 1000)
for path, t in times.items():
    print(path, f'median {statistics.median(t[3:]):.2f} ms', f'min {min(t):.2f}')
