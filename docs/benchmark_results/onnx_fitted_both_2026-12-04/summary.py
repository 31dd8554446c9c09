"""Summary of run.sh and run_alone.sh results in one folder (median ms per photo; ratios).

Usage: python summary.py RESULTS_DIR
"""
import glob
import json
import os.path as osp
import statistics
import sys

root = sys.argv[1]


def rows(path):
    with open(path) as f:
        return {r['model']: r for r in json.load(f)['results']}


print('interleaved in one process (run.sh): PyTorch / ONNX Runtime ms, ratio (paired)')
for path in sorted(glob.glob(osp.join(root, 'fitted_run*.json'))) + \
        [osp.join(root, f'random_{k}.json') for k in ('instance', 'panoptic')]:
    r = rows(path)
    for name in [n for n in r if not n.endswith('[onnxruntime]')]:
        pt, ort = r[name], r[name + ' [onnxruntime]']
        print(f'  {osp.basename(path):22s} {name:34s} {pt["median_ms"]:7.1f} '
              f'{ort["median_ms"]:7.1f}  {ort["median_ms"] / pt["median_ms"]:.3f} '
              f'({statistics.median(o / t for o, t in zip(ort["times_ms"], pt["times_ms"])):.3f})')
    if 'blendmask_r50_fpn_1x_coco [onnxruntime]' in r:
        d, b = r['dr1mask_r50_fpn_1x_coco [onnxruntime]'], \
            r['blendmask_r50_fpn_1x_coco [onnxruntime]']
        dp, bp = r['dr1mask_r50_fpn_1x_coco'], r['blendmask_r50_fpn_1x_coco']
        print(f'  {"":22s} DR1Mask / BlendMask, ONNX Runtime: '
              f'{d["median_ms"] / b["median_ms"]:.3f}; PyTorch: '
              f'{dp["median_ms"] / bp["median_ms"]:.3f}')
print('each alone in its own process, alternating (run_alone.sh): PyTorch / ONNX Runtime ms')
for kind in ('fitted', 'random'):
    for i in range(1, 10):
        files = [osp.join(root, f'alone_{kind}_{b}_run{i}.json')
                 for b in ('pytorch', 'onnxruntime')]
        if not all(osp.isfile(f) for f in files):
            break
        pt, ort = (next(iter(rows(f).values()))['median_ms'] for f in files)
        print(f'  {kind} pair {i}: {pt:7.1f} {ort:7.1f}  {ort / pt:.3f}')
