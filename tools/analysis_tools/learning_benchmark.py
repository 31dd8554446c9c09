"""Train several instance segmenters on one real dataset with one recipe, compare AP.

The learning measurement of docs/benchmarks.md: DR1Mask, BlendMask and MMDetection's
CondInst (or any configs) are trained on the same COCO-format data (by default
``../shared/data/coco128-seg``, 128 photos, training and evaluation on the same images:
it measures how fast each model fits real photos, not generalisation) with exactly the
same recipe, applied to every config by ``apply_recipe``:

* backbone: the ImageNet ResNet-50 converted by ``make backbone`` (caffe style, frozen
  BN, stage 1 frozen) with its caffe preprocessing;
* data: short side sampled from ``--short-sides`` (long side at most 5/3 of it) with
  random flips for training, the largest short side for evaluation; batch
  ``--batch-size``;
* schedule: SGD lr ``--lr``, momentum 0.9, weight decay 1e-4, linear warm-up over the
  first 1/6 of the iterations, lr / 10 at 3/4, gradient clipping at norm 35,
  ``--iters`` iterations, box and mask AP (CocoMetric) every ``--val-interval``.

Each model trains in its own process (``tools/train.py``); afterwards the final APs are
collected into ``--out`` and the loss and AP curves drawn into ``<work-dir>/curves.png``.

    python tools/analysis_tools/learning_benchmark.py \\
        configs/dr1mask/dr1mask_r50_fpn_1x_coco.py configs/blendmask/blendmask_r50_fpn_1x_coco.py \\
        mmdet::condinst/condinst_r50_fpn_ms-poly-90k_coco_instance.py \\
        --work-dir work_dirs/learning --iters 300
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
from typing import Any, Dict, List, Optional

from mmengine.config import Config

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_DATA = osp.join(REPO_ROOT, '..', 'shared', 'data', 'coco128-seg')
DEFAULT_BACKBONE = osp.join(REPO_ROOT, 'checkpoints', 'resnet50_caffe_imagenet-tfjs.pth')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+', help='configs (paths or mmdet::...) to train')
    parser.add_argument('--work-dir', required=True)
    parser.add_argument('--data-root', default=DEFAULT_DATA)
    parser.add_argument('--ann-file', default='instances_coco128seg.json')
    parser.add_argument('--img-prefix', default='images/train2017/')
    parser.add_argument('--backbone', default=DEFAULT_BACKBONE,
                        help='ImageNet ResNet-50 checkpoint (caffe style), see `make backbone`')
    parser.add_argument('--iters', type=int, default=300)
    parser.add_argument('--val-interval', type=int, default=150)
    parser.add_argument('--batch-size', type=int, default=2)
    parser.add_argument('--lr', type=float, default=0.01)
    parser.add_argument('--short-sides', nargs='+', type=int, default=[416, 448, 480])
    parser.add_argument('--workers', type=int, default=1)
    parser.add_argument('--out', help='JSON summary (default <work-dir>/summary.json)')
    args = parser.parse_args(argv)
    if not osp.isfile(args.backbone):
        parser.error(f'{args.backbone} not found: run `make backbone` first')
    return args


def apply_recipe(cfg: Config, args: argparse.Namespace) -> Config:
    """Give ``cfg`` the shared backbone, data and schedule (the model head is untouched)."""
    cfg.model.data_preprocessor.update(mean=[103.53, 116.28, 123.675], std=[1.0, 1.0, 1.0],
                                       bgr_to_rgb=False)
    cfg.model.backbone.update(
        style='caffe', frozen_stages=1, norm_eval=True,
        norm_cfg=dict(type='BN', requires_grad=False),
        init_cfg=dict(type='Pretrained', checkpoint=osp.abspath(args.backbone)))
    longest = max(args.short_sides)
    load = [dict(type='LoadImageFromFile'),
            dict(type='CheckedLoadAnnotations', with_bbox=True, with_mask=True,
                 poly2mask=False)]
    train_pipeline = load + [
        dict(type='RandomChoiceResize', keep_ratio=True,
             scales=[(s * 5 // 3, s) for s in args.short_sides]),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackDetInputs')]
    test_pipeline = load + [
        dict(type='Resize', scale=(longest * 5 // 3, longest), keep_ratio=True),
        dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                                              'scale_factor'))]
    data_root = osp.abspath(args.data_root) + '/'
    dataset = dict(type='CocoDataset', data_root=data_root, ann_file=args.ann_file,
                   data_prefix=dict(img=args.img_prefix))
    cfg.train_dataloader = dict(
        batch_size=args.batch_size, num_workers=args.workers,
        persistent_workers=args.workers > 0,
        sampler=dict(type='InfiniteSampler', shuffle=True),
        batch_sampler=dict(type='AspectRatioBatchSampler'),
        dataset=dict(**dataset, filter_cfg=dict(filter_empty_gt=True, min_size=32),
                     pipeline=train_pipeline))
    cfg.val_dataloader = dict(
        batch_size=1, num_workers=args.workers, persistent_workers=args.workers > 0,
        drop_last=False, sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(**dataset, test_mode=True, pipeline=test_pipeline))
    cfg.test_dataloader = cfg.val_dataloader
    cfg.val_evaluator = dict(type='CocoMetric', ann_file=data_root + args.ann_file,
                             metric=['bbox', 'segm'], format_only=False)
    cfg.test_evaluator = cfg.val_evaluator
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=args.iters,
                         val_interval=args.val_interval)
    cfg.optim_wrapper = dict(
        type='OptimWrapper', clip_grad=dict(max_norm=35, norm_type=2),
        optimizer=dict(type='SGD', lr=args.lr, momentum=0.9, weight_decay=0.0001))
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
             end=max(1, args.iters // 6)),
        dict(type='MultiStepLR', by_epoch=False, begin=0, end=args.iters,
             milestones=[args.iters * 3 // 4], gamma=0.1)]
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=10, log_metric_by_epoch=False)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False,
                                        interval=args.iters, max_keep_ckpts=1)
    cfg.log_processor = dict(by_epoch=False)
    cfg.pop('auto_scale_lr', None)
    cfg.randomness = dict(seed=0)
    return cfg


def last_scalars(work_dir: str) -> Dict[str, Any]:
    """The metrics of the last evaluation in the newest run's scalars.json."""
    logs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not logs:
        raise FileNotFoundError(f'no scalars.json under {work_dir}: did the training run?')
    metrics = {}
    with open(logs[-1]) as f:
        for line in f:
            record = json.loads(line)
            if any(k.startswith('coco/') for k in record):
                metrics = record
    return dict(log=logs[-1], **metrics)


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    args = parse_args(argv)
    sys.path.insert(0, osp.join(REPO_ROOT, 'tools', 'analysis_tools'))
    from benchmark import resolve_config  # the same mmdet:: resolution as the speed tool
    os.makedirs(args.work_dir, exist_ok=True)
    summary = dict(command=' '.join(['python', *sys.argv]), recipe=dict(
        iters=args.iters, batch_size=args.batch_size, lr=args.lr,
        short_sides=args.short_sides, backbone=osp.basename(args.backbone)), runs=[])
    for config in args.configs:
        name = osp.splitext(osp.basename(config))[0]
        cfg = apply_recipe(Config.fromfile(resolve_config(config)), args)
        run_dir = osp.join(args.work_dir, name)
        cfg.work_dir = run_dir
        os.makedirs(run_dir, exist_ok=True)
        cfg_path = osp.join(args.work_dir, f'{name}.py')
        cfg.dump(cfg_path)
        print(f'[learning] training {name} ({args.iters} iterations) in {run_dir}', flush=True)
        subprocess.run([sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'), cfg_path,
                        '--work-dir', run_dir], check=True)
        summary['runs'].append(dict(model=name, config=config, **last_scalars(run_dir)))
    out = args.out or osp.join(args.work_dir, 'summary.json')
    with open(out, 'w') as f:
        json.dump(summary, f, indent=1)
    logs = [r['log'] for r in summary['runs']]
    subprocess.run([sys.executable, osp.join(REPO_ROOT, 'tools', 'analysis_tools',
                                             'analyze_logs.py'), 'plot_curve', *logs,
                    '--keys', 'loss', 'coco/bbox_mAP', 'coco/segm_mAP',
                    '--legend', *[r['model'] for r in summary['runs']],
                    '--out', osp.join(args.work_dir, 'curves.png')], check=True)
    for r in summary['runs']:
        print(f"{r['model']:48s} bbox mAP {r.get('coco/bbox_mAP')}  "
              f"segm mAP {r.get('coco/segm_mAP')}")
    return summary


if __name__ == '__main__':
    main()
