"""The rule of rule.md: per model the run medians of the per-image ratios (DR1Mask
panoptic / without the layer, same image) of the ten after-runs beside this script, their mean
and a two-sided 95 % Student-t interval; position_prior before against after (Welch).

Run: python r3_analysis.py
"""
import glob
import json
import os.path as osp

import numpy as np
from scipy import stats

HERE = osp.dirname(osp.abspath(__file__))


def run_medians(model: str, code: str) -> np.ndarray:
    paths = sorted(glob.glob(osp.join(HERE, f'tiny_{model}_seed2_{code}_run*.json')),
                   key=lambda p: int(p.rsplit('run', 1)[1].split('.')[0]))
    values = []
    for path in paths:
        with open(path) as f:
            results = json.load(f)['results']
        values.append(np.median([a / b for a, b in zip(results[0]['times_ms'],
                                                      results[1]['times_ms'])]))
    return np.asarray(values)


def interval(values: np.ndarray) -> str:
    mean = values.mean()
    low, high = stats.t.interval(0.95, len(values) - 1, loc=mean, scale=stats.sem(values))
    verdict = 'shown' if high < 1.05 else 'missed' if low > 1.05 else 'not resolved'
    return (f'{len(values)} runs: ' + ' '.join(f'{v - 1:+.1%}' for v in values) +
            f'; mean {mean - 1:+.2%}, 95 % interval [{low:.4f}, {high:.4f}]: <= +5 % {verdict}')


def main() -> None:
    for model in ('paper', 'position-prior'):
        print(f'### tiny_{model}_seed2, after (the rule):', interval(run_medians(model, 'after')))
    before, after = run_medians('position-prior', 'before'), run_medians('position-prior', 'after')
    print('### tiny_position-prior_seed2, before (not deciding):', interval(before))
    p = stats.ttest_ind(before, after, equal_var=False).pvalue
    print(f'  after - before: {after.mean() - before.mean():+.2%} points, Welch p = {p:.2g}')


if __name__ == '__main__':
    main()
