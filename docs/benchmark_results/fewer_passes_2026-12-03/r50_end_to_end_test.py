"""The rule of r50_end_to_end_rule.md applied to the JSON files beside this script:
median per-image ratio (DR1Mask panoptic / the same model without the panoptic layer) and
its 95 % percentile-bootstrap interval. Run: python r50_end_to_end_test.py"""
import json
import os.path as osp

import numpy as np

HERE = osp.dirname(osp.abspath(__file__))


def ratios(name: str) -> list:
    with open(osp.join(HERE, name)) as f:
        results = json.load(f)['results']
    return [a / b for a, b in zip(results[0]['times_ms'], results[1]['times_ms'])]


def report(label: str, values: list, rng: np.random.Generator) -> None:
    values = np.asarray(values)
    boots = np.median(rng.choice(values, size=(10000, len(values))), axis=1)
    low, high = np.percentile(boots, [2.5, 97.5])
    print(f'{label}: median {np.median(values):.4f}, 95 % interval [{low:.4f}, {high:.4f}], '
          f'{int((values < 1.05).sum())}/{len(values)} below 1.05')


rng = np.random.default_rng(0)
new = ratios('r50_36photos_run1.json') + ratios('r50_36photos_run2.json')
earlier = sum((ratios(f'r50_after_run{i}.json') for i in (1, 2, 3)), [])
report('the two 36-photo runs (72)', new, rng)
report('pooled with the three 12-photo runs (108)', earlier + new, rng)
