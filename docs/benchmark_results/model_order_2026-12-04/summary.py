"""Per JSON file beside this script: the three (or two) median times, the panoptic model's
overhead over the same model without the layer (median of the per-image ratios) and, with
BlendMask as the third model, DR1Mask / BlendMask panoptic (median of per-image ratios).

Run: python summary.py
"""
import glob
import json
import os.path as osp

import numpy as np

HERE = osp.dirname(osp.abspath(__file__))


def paired(results: list, i: int, j: int) -> float:
    return float(np.median([a / b for a, b in zip(results[i]['times_ms'],
                                                  results[j]['times_ms'])]))


def main() -> None:
    for path in sorted(glob.glob(osp.join(HERE, '*.json'))):
        with open(path) as f:
            results = json.load(f)['results']
        line = f'{osp.basename(path):60s} ' + ' / '.join(
            f"{r['median_ms']:.2f}" for r in results) + \
            f' ms, panoptic over instance {paired(results, 0, 1) - 1:+.1%}'
        if len(results) > 2:
            line += f', DR1Mask / BlendMask {paired(results, 0, 2):.2f}x'
        print(line)


if __name__ == '__main__':
    main()
