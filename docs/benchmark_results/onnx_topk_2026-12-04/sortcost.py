"""What MMDetection's filter_scores_and_topk spends sorting at score threshold 0 for the
R-50 COCO test size (1333x800 padded to 1344x800: P3-P7 of 80 classes), against a top-k.

    python sortcost.py   # 2026-12-04, this project's 2-core machine: 129.9 against 5.2 ms
"""
import statistics as st
import time

import torch

torch.manual_seed(0)
SIZES = [168 * 100, 84 * 50, 42 * 25, 21 * 13, 11 * 7]
SCORES = [torch.rand(n, 80) * 0.3 for n in SIZES]


def sort_path():
    """Threshold, sort every passing score, cut at 1000 (filter_scores_and_topk)."""
    for s in SCORES:
        valid = s > 0
        idxs = torch.nonzero(valid)
        _, order = s[valid].sort(descending=True)
        idxs[order[:1000]]


def topk_path():
    """The 1000 best first, then the threshold (the exported graph)."""
    for s in SCORES:
        flat = s.reshape(-1)
        values, idxs = flat.topk(min(1000, flat.numel()))
        idxs[values > 0]


def main():
    for path in (sort_path, topk_path):
        for _ in range(3):
            path()
        times = []
        for _ in range(20):
            start = time.perf_counter()
            path()
            times.append((time.perf_counter() - start) * 1e3)
        print(path.__name__, 'median ms', round(st.median(times), 1),
              'threads', torch.get_num_threads())


if __name__ == '__main__':
    main()
