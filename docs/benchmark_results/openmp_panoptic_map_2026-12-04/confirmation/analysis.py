"""The rule of tiny_rule.md: per model the 96 per-image ratios (DR1Mask panoptic / without
the layer, same image) of the three confirmation runs beside this script; median and its
95 % percentile-bootstrap interval (10 000 resamples, numpy default_rng(0)).

Run: python analysis.py
"""
import json
import os.path as osp

import numpy as np

HERE = osp.dirname(osp.abspath(__file__))


def ratios(name: str) -> list:
    with open(osp.join(HERE, name)) as f:
        results = json.load(f)['results']
    dr1, inst = results[0]['median_ms'], results[1]['median_ms']
    print(f'  {name}: {dr1:.2f} / {inst:.2f} ms, panoptic over instance {dr1 / inst - 1:+.1%}')
    return [a / b for a, b in zip(results[0]['times_ms'], results[1]['times_ms'])]


def main() -> None:
    rng = np.random.default_rng(0)
    for model in ('paper', 'position-prior'):
        print(f'### tiny_{model}_seed2')
        values = np.asarray(sum((ratios(f'tiny_{model}_seed2_confirm_run{r}.json')
                                 for r in (1, 2, 3)), []))
        boots = np.median(rng.choice(values, size=(10000, len(values))), axis=1)
        low, high = np.percentile(boots, [2.5, 97.5])
        verdict = 'shown' if high < 1.05 else 'missed' if low > 1.05 else 'not resolved'
        q1, q3 = np.percentile(values, [25, 75])
        print(f'  {len(values)} ratios: median {np.median(values) - 1:+.1%} (quartiles '
              f'{q1 - 1:+.1%}, {q3 - 1:+.1%}), 95 % interval [{low:.4f}, {high:.4f}], '
              f'{int((values < 1.05).sum())}/{len(values)} below 1.05: <= +5 % {verdict}')


if __name__ == '__main__':
    main()
