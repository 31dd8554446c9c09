"""Resident memory over long runs: training with periodic validation, and inference over
many images through ``tools/demo.py`` (MMDetection's ``DetInferencer``).

Two measurements, each in a fresh process, on the tiny DR1Mask
(``configs/dr1mask/dr1mask_r18_fpn_tiny_synthetic.py``) and synthetic data written here:

* ``train``: ``--iters`` iterations (``--batch-size``, the config's 4 by default) with
  validation every ``--val-interval``; the process's resident memory (``VmRSS``, Linux)
  after every ``--every`` iterations and after each validation.
* ``infer``: ``tools/demo.py`` on ``--images`` distinct images with the weights the
  training run saved; resident memory sampled every 0.2 s against the pictures written.

Growth is measured after a warm-up (the first ``--warmup`` fraction of the run): the
median of the samples in the next 5 % of the run is the baseline, and the report gives
the median of the last 5 % and the maximum after the warm-up, relative to it. Writes
``--out`` (json) and ``--plot`` (RSS against iteration and image, one panel each).

    python tools/analysis_tools/memory_curve.py WORK_DIR --iters 2000 --val-interval 200 \\
        --batch-size 2 --images 1000 --out memory.json --plot memory.png
"""
import argparse
import datetime
import json
import os
import os.path as osp
import platform
import statistics
import subprocess
import sys
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

from mmdet_dr1mask.support import child_process, run_child

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(REPO_ROOT, 'configs', 'dr1mask', 'dr1mask_r18_fpn_tiny_synthetic.py')
IMG_SIZE = (96, 128)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dir')
    parser.add_argument('--iters', type=int, default=2000, help='training iterations')
    parser.add_argument('--val-interval', type=int, default=200)
    parser.add_argument('--batch-size', type=int, help="training batch (the config's 4 if "
                        'not given)')
    parser.add_argument('--every', type=int, default=10, help='iterations between samples')
    parser.add_argument('--images', type=int, default=1000, help='images for inference')
    parser.add_argument('--warmup', type=float, default=0.1,
                        help='fraction of a run left out before the baseline')
    parser.add_argument('--out', help='report (json)')
    parser.add_argument('--plot', help='picture of the curves (png)')
    return parser.parse_args(argv)


def rss_mib() -> float:
    """This process's resident set size (``VmRSS`` of /proc/self/status), MiB."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    raise RuntimeError('no VmRSS in /proc/self/status (Linux only)')


def growth(samples: List[Tuple[float, float]], total: float, warmup: float) -> Dict[str, Any]:
    """Growth of ``samples`` ((step, MiB), steps up to ``total``) after ``warmup``."""
    start = warmup * total
    after = [(s, m) for s, m in samples if s > start]
    base = [m for s, m in after if s <= start + 0.05 * total]
    last = [m for s, m in after if s > 0.95 * total]
    baseline, final, peak = statistics.median(base), statistics.median(last), max(
        m for _, m in after)
    return dict(warmup_steps=start, baseline_mib=round(baseline, 1),
                final_mib=round(final, 1), max_mib=round(peak, 1),
                final_growth_pct=round(100 * (final / baseline - 1), 2),
                max_growth_pct=round(100 * (peak / baseline - 1), 2))


# ------------------------------------------------------------------ the two runs
def run_train(work_dir: str, data_root: str, args: argparse.Namespace) -> Dict[str, Any]:
    from mmengine.config import Config
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    from mmdet_dr1mask.support import retarget_data_root

    samples: List[Tuple[int, float]] = []
    validations: List[Tuple[int, float]] = []

    class RecordRSS(Hook):
        priority = 'LOWEST'

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            if (runner.iter + 1) % args.every == 0:
                samples.append((runner.iter + 1, rss_mib()))

        def after_val(self, runner) -> None:
            validations.append((runner.iter, rss_mib()))

    cfg = retarget_data_root(Config.fromfile(TINY), data_root)
    cfg.work_dir = work_dir
    cfg.train_cfg.max_iters = args.iters
    cfg.train_cfg.val_interval = args.val_interval
    if args.batch_size is not None:
        cfg.train_dataloader.batch_size = args.batch_size
    cfg.default_hooks.checkpoint.interval = args.iters  # the weights for `infer`
    cfg.default_hooks.logger.interval = 50
    runner = Runner.from_cfg(cfg)
    runner.register_hook(RecordRSS())
    start = time.time()
    runner.train()
    return dict(seconds=round(time.time() - start), samples=samples, validations=validations,
                growth=growth(samples, args.iters, args.warmup))


def run_infer(work_dir: str, data_root: str, weights: str,
              args: argparse.Namespace) -> Dict[str, Any]:
    sys.path.insert(0, osp.join(REPO_ROOT, 'tools'))
    import demo

    out_dir = osp.join(work_dir, 'pictures')
    os.makedirs(out_dir, exist_ok=True)
    samples: List[Tuple[int, float]] = []
    done = threading.Event()

    def sample() -> None:  # pictures written so far, and the memory now
        while not done.is_set():
            samples.append((len(os.listdir(out_dir)), rss_mib()))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    start = time.time()
    sampler.start()
    written = demo.main([osp.join(data_root, 'infer'), TINY, '--weights', weights,
                         '--out-dir', out_dir])
    done.set()
    sampler.join()
    samples.append((len(written), rss_mib()))
    return dict(seconds=round(time.time() - start), images=len(written), samples=samples,
                growth=growth(samples, args.images, args.warmup))


# ------------------------------------------------------------------ the driver
def plot(report: Dict[str, Any], path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for ax, key, unit in ((axes[0], 'train', 'training iteration'),
                          (axes[1], 'infer', 'image (tools/demo.py)')):
        run = report[key]
        steps, mib = zip(*run['samples'])
        ax.plot(steps, mib, lw=1, label='RSS')
        if run.get('validations'):
            v_steps, v_mib = zip(*run['validations'])
            ax.plot(v_steps, v_mib, 'o', ms=3, label='after a validation')
        g = run['growth']
        ax.axvline(g['warmup_steps'], color='grey', ls=':', lw=1, label='end of warm-up')
        ax.axhline(g['baseline_mib'], color='grey', ls='--', lw=1, label='baseline')
        ax.set_xlabel(unit)
        ax.set_ylabel('resident memory (MiB)')
        ax.set_title(f"{key}: {g['final_growth_pct']:+.1f} % at the end, "
                     f"{g['max_growth_pct']:+.1f} % max", fontsize=10)
        ax.set_ylim(0, 1.15 * max(mib))
        ax.legend(fontsize=8, loc='lower right')
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def child(argv: List[str]) -> None:
    """``child MODE JSON_ARGS``: one measurement, its result printed as the last line."""
    mode, params = argv[0], json.loads(argv[1])
    args = argparse.Namespace(**params['args'])
    if mode == 'train':
        result = run_train(params['work_dir'], params['data_root'], args)
    else:
        result = run_infer(params['work_dir'], params['data_root'], params['weights'], args)
    print('RESULT ' + json.dumps(result))


def in_child(mode: str, params: Dict[str, Any], log: str) -> Dict[str, Any]:
    with open(log, 'w') as f:
        subprocess.run(stdout=f, stderr=subprocess.STDOUT, check=True, **child_process(
            __file__, mode, json.dumps(params), root=REPO_ROOT))
    with open(log) as f:
        last = [line for line in f if line.startswith('RESULT ')][-1]
    return json.loads(last[len('RESULT '):])


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    argv = run_child(argv, child)
    if argv is None:
        return {}
    args = parse_args(argv)
    from mmdet_dr1mask.support import SyntheticConfig, generate_split
    data_root = osp.join(args.work_dir, 'data')
    synthetic = SyntheticConfig(img_size=IMG_SIZE)
    for split, num in (('train', 32), ('val', 8), ('infer', args.images)):
        if not osp.isdir(osp.join(data_root, split)):
            generate_split(data_root, split, num, seed=0, cfg=synthetic)
    params = dict(args=vars(args), data_root=data_root)
    train_dir = osp.join(args.work_dir, 'train')
    report: Dict[str, Any] = dict(
        date=datetime.date.today().isoformat(), machine=platform.processor() or
        platform.machine(), cpus=os.cpu_count(), config=osp.relpath(TINY, REPO_ROOT),
        img_size=IMG_SIZE, warmup=args.warmup, batch_size=args.batch_size)
    report['train'] = in_child('train', dict(params, work_dir=train_dir),
                               osp.join(args.work_dir, 'train.log'))
    report['infer'] = in_child('infer', dict(
        params, work_dir=osp.join(args.work_dir, 'infer'),
        weights=osp.join(train_dir, f'iter_{args.iters}.pth')),
        osp.join(args.work_dir, 'infer.log'))
    for key in ('train', 'infer'):
        print(key, json.dumps(report[key]['growth']))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(report, f, indent=1)
    if args.plot:
        plot(report, args.plot)
    return report


if __name__ == '__main__':
    main()
