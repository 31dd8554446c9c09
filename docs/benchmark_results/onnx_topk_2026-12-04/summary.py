"""DR1Mask and BlendMask R-50, PyTorch eager against the exported graph in ONNX Runtime,
every run of 2026-12-04 (docs/deployment.md, speed). Prints, per run, the median ms of
each model, the ratio of the medians and the paired ratio (median of per-image ratios).

before/: the graph sorted every score above the threshold of a level (b74eb54 and the
         commits before it); after/: top-k before the threshold (and, for panoptic runs
         named *_floatsums, the mask areas and the duplicate filter's counts in float32).
    python summary.py > summary.txt
"""
import glob
import json
import os.path as osp
import statistics as st

HERE = osp.dirname(osp.abspath(__file__))
# the PyTorch head's sort of every score at threshold 0 (sortcost.py, this machine)
SORT_MS = 129.9 - 5.2


def paired(a, b):
    return st.median([y / x for x, y in zip(a, b)])


def main():
    ratios = {}
    for path in sorted(glob.glob(osp.join(HERE, '*', '*.json'))):
        if osp.basename(path).startswith('dr1conv'):
            continue  # benchmark_components.py output of the same runs
        with open(path) as f:
            results = json.load(f)['results']
        name = osp.relpath(path, HERE)
        rows = {r['model']: r['times_ms'] for r in results}
        print(name)
        for model, times in rows.items():
            print(f'  {model:55s} {st.median(times):8.1f} ms')
        for model in list(rows):
            ort = model + ' [onnxruntime]'
            if ort in rows:
                pt, rt = rows[model], rows[ort]
                r = st.median(rt) / st.median(pt)
                print(f'  {model}: ONNX Runtime / PyTorch {r:.3f} (paired {paired(pt, rt):.3f})')
                if 'panoptic' not in model:
                    ratios.setdefault((osp.dirname(name), model), []).append(
                        (r, st.median(rt) / (st.median(pt) - SORT_MS)))
        print()
    for (group, model), values in sorted(ratios.items()):
        plain = [v[0] for v in values]
        print(f'{group:7s} {model:28s} runs {len(values)}: ratio of medians '
              f'{min(plain):.3f}-{max(plain):.3f} (median {st.median(plain):.3f})')
        if group == 'after':
            nosort = [v[1] for v in values]
            print(f'{"":7s} {"":28s} PyTorch time less its sort ({SORT_MS:.1f} ms): '
                  f'{min(nosort):.3f}-{max(nosort):.3f} (median {st.median(nosort):.3f})')


if __name__ == '__main__':
    main()
