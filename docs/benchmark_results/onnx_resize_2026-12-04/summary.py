"""Summary of the A/B runs in runs/: python summary.py > summary.txt"""
import glob
import json
import os.path as osp
import statistics

from scipy.stats import mannwhitneyu

HERE = osp.dirname(osp.abspath(__file__))
table = {}
for code in ('new', 'prev'):
    rows = []
    for path in sorted(glob.glob(osp.join(HERE, 'runs', f'{code}_run*.json'))):
        with open(path) as f:
            pytorch, onnx = json.load(f)['results']
        rows.append((pytorch['median_ms'], onnx['median_ms'], onnx['ratio_to_first'],
                     onnx['paired_ratio_to_first']))
    table[code] = rows
    print(f'{code}: runs {len(rows)}')
    for r in rows:
        print(f'  PyTorch {r[0]:7.1f} ms  ONNX Runtime {r[1]:7.1f} ms  ratio {r[2]:.3f}  '
              f'paired {r[3]:.3f}')
    print(f'  median ONNX Runtime {statistics.median(r[1] for r in rows):.1f} ms, ratio '
          f'{statistics.median(r[2] for r in rows):.3f}, paired '
          f'{statistics.median(r[3] for r in rows):.3f}')
for column, name in ((1, 'ONNX Runtime ms'), (3, 'paired ratio')):
    p = mannwhitneyu([r[column] for r in table['new']], [r[column] for r in table['prev']]
                     ).pvalue
    print(f'new against prev, {name}: Mann-Whitney p = {p:.2f}')
