"""Statistics of a before/after comparison of the panoptic layer's cost (docs/benchmarks.md
§1.3) from the JSON files of ``tools/analysis_tools/benchmark.py`` in one results folder:
per run the medians; per model the per-image ratios (DR1Mask panoptic / the same model
without the panoptic layer, same image) pooled over the runs, with a Mann-Whitney test
before against after. Files are named ``PREFIX_{before,after}_runN.json`` with PREFIX
``tiny_position-prior_seed2``, ``tiny_paper_seed2`` or ``r50``.

    python benchmarks/panoptic_before_after.py docs/benchmark_results/FOLDER
"""
import glob
import json
import os.path as osp
import sys

import numpy as np
from scipy import stats

PREFIXES = ('tiny_position-prior_seed2', 'tiny_paper_seed2', 'r50')


def load(path: str) -> list:
    with open(path) as f:
        return json.load(f)['results']


def pooled(folder: str, prefix: str, code: str) -> list:
    values = []
    for path in sorted(glob.glob(osp.join(folder, f'{prefix}_{code}_run*.json'))):
        results = load(path)
        medians = [r['median_ms'] for r in results]
        line = f'  {osp.basename(path)}: ' + ' / '.join(f'{m:.1f}' for m in medians) + \
            f' ms, panoptic over instance {medians[0] / medians[1] - 1:+.1%}'
        if len(medians) > 2:
            line += f', DR1Mask / BlendMask {medians[0] / medians[2]:.2f}x'
        print(line)
        values += [a / b for a, b in zip(results[0]['times_ms'], results[1]['times_ms'])]
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    print(f'  {code}: {len(values)} per-image ratios, median {median - 1:+.1%} '
          f'(quartiles {q1 - 1:+.1%}, {q3 - 1:+.1%})')
    return values


def main(folder: str) -> None:
    for prefix in PREFIXES:
        if not glob.glob(osp.join(folder, f'{prefix}_*_run*.json')):
            continue  # e.g. a folder of tiny runs only
        print(f'### {prefix} (DR1Mask panoptic / without the layer [/ BlendMask panoptic])')
        before, after = pooled(folder, prefix, 'before'), pooled(folder, prefix, 'after')
        p = stats.mannwhitneyu(before, after).pvalue
        print(f'  Mann-Whitney, before against after: p = {p:.2g}')


if __name__ == '__main__':
    main(sys.argv[1])
