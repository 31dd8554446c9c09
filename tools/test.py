"""Evaluate a checkpoint with MMEngine's runner: MMDetection's ``tools/test.py`` and its
flags, plus what this project needs and MMDetection's does not do:

* importing ``mmdet_dr1mask`` registers its modules (no ``custom_imports`` needed);
* ``--launcher pytorch`` on CPU-only machines: SyncBN becomes BN and the gloo backend is
  used (``adapt_distributed_to_cpu``);
* ``--data-root DIR`` evaluates on another data root with the config's layout
  (``mmdet_dr1mask.support.recipes``);
* a missing checkpoint and an ``--out`` that is not a pickle file are errors naming the
  file before the model is built (MMDetection's asserts or fails later).

MMDetection's ``--tta`` is not offered: its ``DetTTAModel`` merges boxes only and refuses
predictions with masks, and no test-time augmentation of instance masks or panoptic
segments is implemented here.

Examples::

    python tools/test.py CONFIG CHECKPOINT
    python tools/test.py CONFIG CHECKPOINT --out results.pkl --show-dir vis
    python tools/test.py CONFIG CHECKPOINT --data-root data/synthetic_big/
    torchrun --nproc_per_node 8 tools/test.py CONFIG CHECKPOINT --launcher pytorch
"""
import argparse
import os
import os.path as osp
from typing import List, Optional

from mmdet.engine.hooks.utils import trigger_visualization_hook
from mmdet.evaluation import DumpDetResults
from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from mmdet_dr1mask.support import (  # also registers the package
    adapt_distributed_to_cpu,
    retarget_data_root,
)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and evaluate) a detector')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save the evaluation metrics')
    parser.add_argument('--out', type=str,
                        help='dump predictions to a pickle file (.pkl) for offline evaluation')
    parser.add_argument('--show', action='store_true', help='show prediction results')
    parser.add_argument('--show-dir', help='save pictures of the predictions in this folder '
                        '(relative to each run\'s log folder)')
    parser.add_argument('--wait-time', type=float, default=2, help='seconds between pictures')
    parser.add_argument('--data-root', help="evaluate on this folder (the config's layout "
                        'below it)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value (after --data-root)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def build_config(args: argparse.Namespace) -> Config:
    """Load the config and apply the command-line overrides."""
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        raise ValueError(f'--out must be a .pkl or .pickle file, got {args.out}')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.data_root is not None:
        retarget_data_root(cfg, args.data_root)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    adapt_distributed_to_cpu(cfg)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)
    return cfg


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    cfg = build_config(args)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    if args.out is not None:
        runner.test_evaluator.metrics.append(DumpDetResults(out_file_path=args.out))
    runner.test()


if __name__ == '__main__':
    main()
