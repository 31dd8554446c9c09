"""Markdown table of learning_benchmark.py summaries: final AP and how the loss moved.

    python tools/analysis_tools/learning_table.py work_dirs/learning/summary.json [...]

One row per trained model: box and mask mAP, mAP50 and mAP75 of the last evaluation, and the
total training loss as the mean of the first ``--window`` logged values → the mean of
the last ``--window`` (read from each run's ``scalars.json``).
"""
import argparse
import json
from statistics import mean
from typing import List, Optional, Tuple

METRICS = ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/bbox_mAP_75', 'coco/segm_mAP',
           'coco/segm_mAP_50', 'coco/segm_mAP_75')


def loss_trend(log: str, window: int = 3) -> Tuple[float, float]:
    """Mean total loss of the first and of the last ``window`` training records."""
    with open(log) as f:
        losses = [rec['loss'] for rec in map(json.loads, f) if 'loss' in rec and 'lr' in rec]
    if not losses:
        raise ValueError(f'{log} has no training loss records')
    return mean(losses[:window]), mean(losses[-window:])


def render(summaries: List[str], window: int = 3) -> str:
    """The table, one row per run of every summary, in the order given."""
    lines = ['| model | box AP | box AP50 | box AP75 | mask AP | mask AP50 | mask AP75 '
             '| loss first → last |',
             '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |']
    for path in summaries:
        with open(path) as f:
            runs = json.load(f)['runs']
        for run in runs:
            first, last = loss_trend(run['log'], window)
            aps = ' | '.join(f'{run[k]:.3f}' if k in run else '-' for k in METRICS)
            lines.append(f"| {run['model']} | {aps} | {first:.2f} → {last:.2f} |")
    return '\n'.join(lines)


def main(argv: Optional[List[str]] = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('summaries', nargs='+', help='summary JSON of learning_benchmark.py')
    parser.add_argument('--window', type=int, default=3, help='logged losses averaged')
    args = parser.parse_args(argv)
    table = render(args.summaries, args.window)
    print(table)
    return table


if __name__ == '__main__':
    main()
