"""The rule of runs_rule.md: per model the run medians of the per-image ratios (DR1Mask
panoptic / without the layer, same image) of the ten runs beside this script, their mean
and a two-sided 95 % Student-t interval; also with the six earlier after-runs added
(``../`` and ``../confirmation``).

Run: python analysis.py
"""
import glob
import json
import os.path as osp

import numpy as np
from scipy import stats

HERE = osp.dirname(osp.abspath(__file__))


def run_median(path: str) -> float:
    with open(path) as f:
        results = json.load(f)['results']
    return float(np.median([a / b for a, b in zip(results[0]['times_ms'], results[1]['times_ms'])]))


def interval(values: list) -> str:
    values = np.asarray(values)
    mean, sem = values.mean(), stats.sem(values)
    low, high = stats.t.interval(0.95, len(values) - 1, loc=mean, scale=sem)
    verdict = 'shown' if high < 1.05 else 'missed' if low > 1.05 else 'not resolved'
    return (f'{len(values)} runs: ' + ' '.join(f'{v - 1:+.1%}' for v in values) +
            f'; mean {mean - 1:+.2%}, 95 % interval [{low:.4f}, {high:.4f}]: <= +5 % {verdict}')


def main() -> None:
    for model in ('paper', 'position-prior'):
        new = [run_median(p) for p in sorted(
            glob.glob(osp.join(HERE, f'tiny_{model}_seed2_runs_run*.json')),
            key=lambda p: int(p.rsplit('run', 1)[1].split('.')[0]))]
        earlier = [run_median(p) for p in sorted(
            glob.glob(osp.join(HERE, '..', f'tiny_{model}_seed2_after_run*.json')) +
            glob.glob(osp.join(HERE, '..', 'confirmation',
                               f'tiny_{model}_seed2_confirm_run*.json')))]
        print(f'### tiny_{model}_seed2')
        print('  the rule, new runs:', interval(new))
        print('  not deciding, with the six earlier after-runs:', interval(earlier + new))


if __name__ == '__main__':
    main()
