"""Ratios of the A/B runs in this folder: python summary.py > summary.txt"""
import collections
import glob
import json
import os.path as osp
import statistics

from scipy.stats import wilcoxon

HERE = osp.dirname(osp.abspath(__file__))


def load(path):
    with open(path) as f:
        return json.load(f)


def rows_of(path):
    report = load(path)
    for group, rows in report['groups'].items():
        plain = rows[0]
        pick = {r['name']: r for r in rows}
        dr1 = next(r for n, r in pick.items() if n.startswith('DR1Conv') and
                   'unfused' not in n and 'onnx' not in n)
        unfused = next(r for n, r in pick.items() if 'unfused' in n)
        folded = next(r for n, r in pick.items() if 'folded' in n)
        ort = [r for n, r in pick.items() if 'onnxruntime' in n]
        yield group, dict(
            plain_ms=plain['median_ms'], dr1=dr1['median_ms'] / plain['median_ms'],
            unfused=unfused['median_ms'] / plain['median_ms'],
            no_factors=folded['median_ms'] / plain['median_ms'],
            faults=(plain.get('median_page_faults'), dr1.get('median_page_faults')),
            ort=ort[1]['median_ms'] / ort[0]['median_ms'] if ort else None)


for folder in ('conv', 'rule_runs', 'rule2_runs', 'tool_before_eval_fix'):
    print(f'== {folder}')
    table = collections.defaultdict(list)
    for path in sorted(glob.glob(osp.join(HERE, folder, '*.json'))):
        setting = osp.basename(path).rsplit('_run', 1)[0]
        for group, row in rows_of(path):
            table[(group, setting)].append(row)
    for (group, setting), rows in sorted(table.items()):
        dr1 = [r['dr1'] for r in rows]
        print(f'{group} {setting:11s} runs {len(rows):2d}  DR1Conv / plain conv: median '
              f'{statistics.median(dr1):.3f}, range {min(dr1):.3f}-{max(dr1):.3f}, '
              + (f'8th smallest {sorted(dr1)[7]:.3f}, ' if len(dr1) == 10 else '') +
              f'<= 1.10 in {sum(d <= 1.10 for d in dr1)}; no factors: median '
              f'{statistics.median(r["no_factors"] for r in rows):.3f}; unfused: median '
              f'{statistics.median(r["unfused"] for r in rows):.3f}; plain conv '
              f'{min(r["plain_ms"] for r in rows):.2f}-{max(r["plain_ms"] for r in rows):.2f} ms'
              + ('' if rows[0]['ort'] is None else
                 f'; ORT DR1Conv / its plain conv {min(r["ort"] for r in rows):.3f}-'
                 f'{max(r["ort"] for r in rows):.3f}'))
print('== basis (DR1Basis D = 32 / 64, ms)')
for k in ('k1', 'k0'):
    runs = [load(p)['groups']['basis'] for p in
            sorted(glob.glob(osp.join(HERE, 'basis', f'{k}_run*.json')))]
    print(k, [(round(r[0]['median_ms'], 2), round(r[1]['median_ms'], 2)) for r in runs])
print('== rule2_runs: new code against fc96df7, paired rounds (two-sided Wilcoxon)')
for group in ('conv-32', 'conv-64'):
    for setting in ('default', 'keep'):
        ratios = {}
        for code in ('new', 'prev'):
            ratios[code] = []
            for i in range(1, 11):
                rows = load(osp.join(HERE, 'rule2_runs', f'{setting}_{code}_run{i}.json')
                            )['groups'][group]
                ratios[code].append(rows[1]['median_ms'] / rows[0]['median_ms'])
        p = wilcoxon(ratios['new'], ratios['prev']).pvalue
        print(f'{group} {setting:8s} new {statistics.median(ratios["new"]):.3f} '
              f'fc96df7 {statistics.median(ratios["prev"]):.3f} p = {p:.2f}')
