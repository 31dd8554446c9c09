"""Plot training curves (losses, learning rate, metrics) from MMEngine's scalar logs.

    python tools/analysis_tools/analyze_logs.py plot_curve \
        WORK_DIR/TIMESTAMP/vis_data/scalars.json [MORE.json ...] \
        --keys loss loss_mask coco/segm_mAP --out curves.png

Each key gets its own panel, plotted against the training iteration (``step``);
several logs (e.g. DR1Mask and BlendMask runs) are overlaid, labelled with
``--legend`` or their folder names. Works for iteration- and epoch-based logs.
"""
import argparse
import json
import os.path as osp
from typing import Dict, List, Optional, Tuple

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

Series = Dict[str, Tuple[List[float], List[float]]]


def load_scalars(path: str) -> Series:
    """{key: (steps, values)} of every numeric scalar in a ``scalars.json`` log."""
    series: Series = {}
    with open(path) as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f'{path}:{line_no}: not a JSON line ({e})') from None
            step = record.get('step', record.get('iter'))
            if step is None:
                continue
            for key, value in record.items():
                if key in ('step', 'iter', 'epoch') or not isinstance(value, (int, float)):
                    continue
                steps, values = series.setdefault(key, ([], []))
                steps.append(step)
                values.append(value)
    return series


def plot_curve(logs: List[str], keys: List[str], out: str,
               legend: Optional[List[str]] = None) -> str:
    """Draw ``keys`` of every log into one PNG with a panel per key."""
    if legend is not None and len(legend) != len(logs):
        raise ValueError(f'--legend has {len(legend)} names for {len(logs)} logs')
    names = legend or [osp.basename(osp.dirname(osp.dirname(osp.abspath(p)))) or p
                       for p in logs]
    data = [load_scalars(p) for p in logs]
    for key in keys:
        if not any(key in d for d in data):
            found = sorted(set().union(*data))
            raise KeyError(f'{key!r} is in none of the logs; keys found: {found}')
    fig, axes = plt.subplots(len(keys), 1, figsize=(7, 2.6 * len(keys)), squeeze=False)
    for ax, key in zip(axes[:, 0], keys):
        for name, series in zip(names, data):
            if key in series:
                steps, values = series[key]
                ax.plot(steps, values, marker='o' if len(steps) < 20 else None, label=name)
        ax.set_title(key)
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def main(argv: Optional[List[str]] = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest='command', required=True)
    curve = sub.add_parser('plot_curve', help='plot scalars against the iteration')
    curve.add_argument('logs', nargs='+', help='scalars.json files')
    curve.add_argument('--keys', nargs='+', default=['loss'])
    curve.add_argument('--legend', nargs='+')
    curve.add_argument('--out', default='curves.png')
    args = parser.parse_args(argv)
    out = plot_curve(args.logs, args.keys, args.out, args.legend)
    print(f'wrote {out}')
    return out


if __name__ == '__main__':
    main()
