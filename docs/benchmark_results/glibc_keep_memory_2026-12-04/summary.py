"""python summary.py > summary.txt"""
import glob
import json
import os.path as osp

HERE = osp.dirname(osp.abspath(__file__))
for folder in ('pytorch', 'pytorch_and_onnxruntime'):
    print(f'== {folder}')
    for path in sorted(glob.glob(osp.join(HERE, folder, '*.json'))):
        with open(path) as f:
            report = json.load(f)
        rows = report['results']
        text = ', '.join(f"{r['model'].split('_coco')[0]}{' [ort]' if 'onnx' in r['model'] else ''}"
                         f" {r['median_ms']:.1f} ms" for r in rows)
        if len(rows) > 1:
            text += (f"; ONNX Runtime / PyTorch {rows[1]['ratio_to_first']:.3f} (paired "
                     f"{rows[1]['paired_ratio_to_first']:.3f})")
        print(f"{osp.basename(path):20s} {text}; peak RSS {report['peak_rss_mib']:.0f} MiB")
