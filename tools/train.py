"""Train a detector with MMEngine's runner: MMDetection's ``tools/train.py`` and its flags,
plus what this project needs and MMDetection's does not do:

* importing ``mmdet_dr1mask`` registers its modules (no ``custom_imports`` needed);
* ``--launcher pytorch`` on CPU-only machines: SyncBN becomes BN and the gloo backend is
  used (``adapt_distributed_to_cpu``), so ``dist_train.sh`` runs without a GPU;
* ``--data-root DIR`` aims every dataloader and evaluator at another data root with the
  config's layout, ``--iters N`` shortens the schedule (lr / 10 at ``--lr-drops``
  fractions, one evaluation and checkpoint at the end): the shared recipe of
  ``mmdet_dr1mask.support.recipes``;
* a TensorBoard backend is added when tensorboard is installed;
* ``--auto-scale-lr`` without ``auto_scale_lr.base_batch_size`` names the config file.

Examples::

    python tools/train.py configs/dr1mask/dr1mask_r50_fpn_1x_coco.py
    python tools/train.py CONFIG --resume            # latest checkpoint in work_dir
    python tools/train.py CONFIG --resume PATH.pth   # a given checkpoint
    python tools/train.py CONFIG --data-root data/synthetic_big/ --iters 3000
    torchrun --nproc_per_node 8 tools/train.py CONFIG --launcher pytorch
"""
import argparse
import importlib.util
import os
import os.path as osp
from typing import List, Optional

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from mmdet_dr1mask.support import (  # also registers the package
    adapt_distributed_to_cpu,
    retarget_data_root,
    shorten_schedule,
)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a detector')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr by the real batch size (auto_scale_lr in the config)')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from the given checkpoint, or from the latest one in '
                        'work_dir when no path is given')
    parser.add_argument('--data-root', help="train and evaluate on this folder (the config's "
                        'layout below it)')
    parser.add_argument('--iters', type=int, help='train this many iterations, evaluate and '
                        'save once at the end')
    parser.add_argument('--lr-drops', nargs='+', type=float, default=[5 / 6],
                        help='with --iters: lr / 10 at these fractions of the iterations')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value (e.g. train_cfg.max_iters=10); '
                        'applied after --data-root and --iters')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK instead.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def build_config(args: argparse.Namespace) -> Config:
    """Load the config and apply the command-line overrides."""
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.data_root is not None:
        retarget_data_root(cfg, args.data_root)
    if args.iters is not None:
        shorten_schedule(cfg, args.iters, lr_drops=args.lr_drops)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    adapt_distributed_to_cpu(cfg)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise KeyError('--auto-scale-lr needs `auto_scale_lr = dict(enable=..., '
                           f'base_batch_size=...)` in {args.config}')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def add_tensorboard(cfg: Config) -> Config:
    """Also write scalars for TensorBoard when it is installed (``tensorboard --logdir``)."""
    if importlib.util.find_spec('tensorboard') is None or 'visualizer' not in cfg:
        return cfg
    backends = cfg.visualizer.setdefault('vis_backends', [])
    if not any(b.get('type') == 'TensorboardVisBackend' for b in backends):
        backends.append(dict(type='TensorboardVisBackend'))
    return cfg


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    cfg = add_tensorboard(build_config(args))
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.train()


if __name__ == '__main__':
    main()
