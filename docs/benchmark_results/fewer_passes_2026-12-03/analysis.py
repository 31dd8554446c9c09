"""Statistics of docs/benchmarks.md §1.2-1.3 ("fewer passes over the map") from the JSON
files beside this script: per run the medians; per model the per-image ratios (DR1Mask
panoptic / the same model without the panoptic layer, same image) pooled over the runs,
with a Mann-Whitney test before against after; the R-50 profile share of the layer; and
the R-50 rule of r50_end_to_end_rule.md (95 % percentile-bootstrap interval of the median).

Run: python analysis.py
"""
import glob
import json
import os.path as osp

import numpy as np
from scipy import stats

HERE = osp.dirname(osp.abspath(__file__))


def load(name: str) -> list:
    with open(osp.join(HERE, name)) as f:
        return json.load(f)['results']


def ratios(results: list) -> list:
    return [a / b for a, b in zip(results[0]['times_ms'], results[1]['times_ms'])]


def pooled(prefix: str, code: str) -> list:
    values = []
    for path in sorted(glob.glob(osp.join(HERE, f'{prefix}_{code}_run*.json'))):
        results = load(osp.basename(path))
        dr1, inst, blend = (r['median_ms'] for r in results[:3])
        print(f'  {osp.basename(path)}: {dr1:.1f} / {inst:.1f} / {blend:.1f} ms, panoptic over '
              f'instance {dr1 / inst - 1:+.1%}, DR1Mask / BlendMask {dr1 / blend:.2f}x')
        values += ratios(results)
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    print(f'  {code}: {len(values)} per-image ratios, median {median - 1:+.1%} '
          f'(quartiles {q1 - 1:+.1%}, {q3 - 1:+.1%})')
    return values


def bootstrap(label: str, values: list, rng: np.random.Generator) -> None:
    values = np.asarray(values)
    boots = np.median(rng.choice(values, size=(10000, len(values))), axis=1)
    low, high = np.percentile(boots, [2.5, 97.5])
    print(f'{label}: median {np.median(values):.4f}, 95 % interval [{low:.4f}, {high:.4f}], '
          f'{int((values < 1.05).sum())}/{len(values)} below 1.05')


def profile_share(name: str) -> str:
    parts = load(name)[0]['profile']['parts']
    step, layer = parts['test_step'], parts['panoptic_head.predict']
    return f'{name}: test_step {step:.1f} ms, panoptic_head.predict {layer:.1f} ms, ' \
        f'{layer / (step - layer):.1%} of the rest'


def main() -> None:
    for prefix in ('tiny_paper_seed2', 'tiny_position-prior_seed2',
                   'tiny_position-prior_seed3', 'r50'):
        print(f'### {prefix} (DR1Mask panoptic / without the layer / BlendMask panoptic)')
        before, after = pooled(prefix, 'before'), pooled(prefix, 'after')
        p = stats.mannwhitneyu(before, after).pvalue
        print(f'  Mann-Whitney, before against after: p = {p:.2g}')
    print('### R-50 profile (--profile 12)')
    for code in ('before', 'after'):
        for run in (1, 2):
            print('  ' + profile_share(f'r50_profile_{code}_run{run}.json'))
    print('### R-50 end to end, the rule of r50_end_to_end_rule.md')
    rng = np.random.default_rng(0)
    new = ratios(load('r50_36photos_run1.json')) + ratios(load('r50_36photos_run2.json'))
    earlier = sum((ratios(load(f'r50_after_run{i}.json')) for i in (1, 2, 3)), [])
    bootstrap('the two 36-photo runs (72)', new, rng)
    bootstrap('pooled with the three 12-photo runs (108)', earlier + new, rng)


if __name__ == '__main__':
    main()
