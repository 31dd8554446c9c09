"""Train several instance segmenters on real photos with one recipe, compare box/mask AP.

The real-photo fit benchmark of docs/benchmarks.md: DR1Mask, BlendMask, MMDetection's
CondInst and K-Net (or any configs) are trained on the same COCO-format photos (by default
``data/coco128-seg`` of the repository, real COCO photos with their COCO categories; the
README says where to get them) with the same recipe, applied to every config by
``apply_recipe``:

* photos: ``--num-photos N`` trains on the first N photos (by image id) and evaluates on
  the same N, against their annotations only: this measures fitting, not generalisation;
  ``--holdout N`` trains on all but the last N photos and evaluates on those N;
* backbone: the ImageNet ResNet-50 converted by ``make backbone`` (caffe style, frozen
  BN, stages up to ``--frozen-stages`` frozen) with its caffe preprocessing;
* data: short side sampled from ``--short-sides`` (long side at most 5/3 of it) with
  random flips for training, the largest short side for evaluation; batch
  ``--batch-size``;
* schedule: SGD lr ``--lr``, momentum 0.9, weight decay 1e-4, gradient clipping at norm
  35 (models named by ``--own-optimizer`` keep their config's optimizer, e.g. K-Net's
  AdamW), linear warm-up over the first 1/6 of the iterations, lr / 10 at 3/4,
  ``--iters`` iterations, box and mask AP (CheckedCocoMetric) every ``--val-interval``.

Each model trains in its own process (``tools/train.py``, so an interrupted run resumes
with ``--resume``); afterwards every evaluation is collected into ``--out`` and
``<work-dir>/mask_ap.png`` draws mask AP against iteration for all models.

    python tools/analysis_tools/learning_benchmark.py \\
        configs/dr1mask/dr1mask_r50_fpn_1x_coco.py configs/blendmask/blendmask_r50_fpn_1x_coco.py \\
        mmdet::condinst/condinst_r50_fpn_ms-poly-90k_coco_instance.py \\
        configs/knet/knet-s3_r50_fpn_1x_coco.py --own-optimizer knet-s3_r50_fpn_1x_coco \\
        --num-photos 8 --frozen-stages 4 --short-sides 384 --iters 600 --val-interval 100 \\
        --work-dir work_dirs/fit8
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
from typing import Any, Dict, List, Optional, Tuple

from mmengine.config import Config

from mmdet_dr1mask.support import load_config, shorten_schedule

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_DATA = osp.join(REPO_ROOT, 'data', 'coco128-seg')
DEFAULT_BACKBONE = osp.join(REPO_ROOT, 'checkpoints', 'resnet50_caffe_imagenet-tfjs.pth')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+', help='configs (paths or mmdet::...) to train')
    parser.add_argument('--work-dir', required=True)
    parser.add_argument('--data-root', default=DEFAULT_DATA)
    parser.add_argument('--ann-file', default='instances_coco128seg.json')
    parser.add_argument('--img-prefix', default='images/train2017/')
    photos = parser.add_mutually_exclusive_group()
    photos.add_argument('--num-photos', type=int, default=0,
                        help='train and evaluate on the first N photos (0: all)')
    photos.add_argument('--holdout', type=int, default=0,
                        help='evaluate on the last N photos, train on the others')
    parser.add_argument('--backbone', default=DEFAULT_BACKBONE,
                        help='ImageNet ResNet-50 checkpoint (caffe style), see `make backbone`')
    parser.add_argument('--frozen-stages', type=int, default=1,
                        help='backbone stages not trained (4: the whole backbone)')
    parser.add_argument('--own-optimizer', nargs='*', default=[], metavar='NAME',
                        help='config names (file name without .py) that keep their optimizer')
    parser.add_argument('--iters', type=int, default=300)
    parser.add_argument('--val-interval', type=int, default=150)
    parser.add_argument('--batch-size', type=int, default=2)
    parser.add_argument('--lr', type=float, default=0.01)
    parser.add_argument('--short-sides', nargs='+', type=int, default=[416, 448, 480])
    parser.add_argument('--workers', type=int, default=1)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', help='JSON summary (default <work-dir>/summary.json)')
    args = parser.parse_args(argv)
    if not osp.isfile(args.backbone):
        parser.error(f'{args.backbone} not found: run `make backbone` first')
    if not osp.isfile(osp.join(args.data_root, args.ann_file)):
        parser.error(f'{osp.join(args.data_root, args.ann_file)} not found: put coco128-seg in '
                     'data/coco128-seg (see the README) or give --data-root and --ann-file')
    return args


def split_annotations(ann_path: str, out_dir: str, num_photos: int = 0,
                      holdout: int = 0) -> Tuple[str, str]:
    """Write the training and evaluation annotation files of the chosen photos.

    Photos are taken in image-id order. ``num_photos``: the first N for both;
    ``holdout``: the last N for evaluation, the others for training; neither: all photos
    for both. Returns the two JSON paths (``train.json``, ``eval.json`` in ``out_dir``).

    Raises:
        ValueError: more photos asked for than ``ann_path`` has.
    """
    with open(ann_path) as f:
        coco = json.load(f)
    images = sorted(coco['images'], key=lambda im: im['id'])
    if num_photos > len(images) or holdout >= len(images):  # a hold-out leaves some to train
        raise ValueError(f'{ann_path} has {len(images)} photos; asked for '
                         f'{num_photos or holdout}')
    if num_photos:
        train = evaluate = images[:num_photos]
    elif holdout:
        train, evaluate = images[:-holdout], images[-holdout:]
    else:
        train = evaluate = images
    paths = []
    os.makedirs(out_dir, exist_ok=True)
    for name, subset in (('train', train), ('eval', evaluate)):
        ids = {im['id'] for im in subset}
        part = dict(coco, images=subset,
                    annotations=[a for a in coco['annotations'] if a['image_id'] in ids])
        paths.append(osp.join(osp.abspath(out_dir), f'{name}.json'))
        with open(paths[-1], 'w') as f:
            json.dump(part, f)
    return paths[0], paths[1]


def apply_recipe(cfg: Config, args: argparse.Namespace, train_ann: str, eval_ann: str,
                 own_optimizer: bool = False) -> Config:
    """Give ``cfg`` the shared backbone, data and schedule (the model head is untouched)."""
    cfg.model.data_preprocessor.update(mean=[103.53, 116.28, 123.675], std=[1.0, 1.0, 1.0],
                                       bgr_to_rgb=False)
    cfg.model.backbone.update(
        style='caffe', frozen_stages=args.frozen_stages, norm_eval=True,
        norm_cfg=dict(type='BN', requires_grad=False),
        init_cfg=dict(type='Pretrained', checkpoint=osp.abspath(args.backbone)))
    longest = max(args.short_sides)
    load = [dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations', with_bbox=True, with_mask=True)]
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
    dataset = dict(type='CocoDataset', data_root=data_root,
                   data_prefix=dict(img=args.img_prefix))
    cfg.train_dataloader = dict(
        batch_size=args.batch_size, num_workers=args.workers,
        persistent_workers=args.workers > 0,
        sampler=dict(type='InfiniteSampler', shuffle=True),
        batch_sampler=dict(type='AspectRatioBatchSampler'),
        dataset=dict(**dataset, ann_file=train_ann,
                     filter_cfg=dict(filter_empty_gt=True, min_size=32),
                     pipeline=train_pipeline))
    cfg.val_dataloader = dict(
        batch_size=1, num_workers=args.workers, persistent_workers=args.workers > 0,
        drop_last=False, sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(**dataset, ann_file=eval_ann, test_mode=True, pipeline=test_pipeline))
    cfg.test_dataloader = cfg.val_dataloader
    cfg.val_evaluator = dict(type='CheckedCocoMetric', ann_file=eval_ann, metric=['bbox', 'segm'],
                             format_only=False)
    cfg.test_evaluator = cfg.val_evaluator
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=args.iters)
    cfg.val_cfg, cfg.test_cfg = dict(type='ValLoop'), dict(type='TestLoop')
    if not own_optimizer:
        cfg.optim_wrapper = dict(
            type='OptimWrapper', clip_grad=dict(max_norm=35, norm_type=2),
            optimizer=dict(type='SGD', lr=args.lr, momentum=0.9, weight_decay=0.0001))
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
             end=max(1, args.iters // 6)),
        dict(type='MultiStepLR', by_epoch=False)]
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=10, log_metric_by_epoch=False)
    # atomic: with one checkpoint kept, MMEngine's hook removes it before writing the next
    cfg.default_hooks.checkpoint = dict(type='AtomicCheckpointHook', by_epoch=False,
                                        max_keep_ckpts=1)
    shorten_schedule(cfg, args.iters, lr_drops=(3 / 4, ), val_interval=args.val_interval)
    cfg.log_processor = dict(by_epoch=False)
    cfg.pop('auto_scale_lr', None)
    cfg.randomness = dict(seed=args.seed)
    return cfg


def evaluations(work_dir: str) -> List[Dict[str, Any]]:
    """Every evaluation (``coco/*`` metrics and ``step``) of the newest run's scalars.json."""
    logs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not logs:
        raise FileNotFoundError(f'no scalars.json under {work_dir}: did the training run?')
    with open(logs[-1]) as f:
        records = [json.loads(line) for line in f]
    return [dict(log=logs[-1], **r) for r in records if any(k.startswith('coco/') for k in r)]


def last_scalars(work_dir: str) -> Dict[str, Any]:
    """The metrics of the last evaluation in the newest run's scalars.json."""
    history = evaluations(work_dir)
    return history[-1] if history else {}


def plot_mask_ap(runs: List[Dict[str, Any]], out_file: str, key: str = 'coco/segm_mAP') -> None:
    """One line per run: ``key`` against training iteration."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for run in runs:
        steps = [e['step'] for e in run['history']]
        ax.plot(steps, [e[key] for e in run['history']], marker='o', label=run['model'])
    ax.set_xlabel('iteration')
    ax.set_ylabel(key.split('/')[-1].replace('segm_', 'mask ').replace('bbox_', 'box '))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_file, dpi=120)
    plt.close(fig)


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    args = parse_args(argv)
    os.makedirs(args.work_dir, exist_ok=True)
    train_ann, eval_ann = split_annotations(
        osp.join(args.data_root, args.ann_file), args.work_dir, args.num_photos, args.holdout)
    summary = dict(command=' '.join(['python', *sys.argv]), recipe=dict(
        iters=args.iters, batch_size=args.batch_size, lr=args.lr, num_photos=args.num_photos,
        holdout=args.holdout, frozen_stages=args.frozen_stages, short_sides=args.short_sides,
        own_optimizer=args.own_optimizer, backbone=osp.basename(args.backbone),
        seed=args.seed), runs=[])
    out = args.out or osp.join(args.work_dir, 'summary.json')
    for config in args.configs:
        name = osp.splitext(osp.basename(config))[0]
        cfg = load_config(config)
        cfg = apply_recipe(cfg, args, train_ann, eval_ann, name in args.own_optimizer)
        run_dir = osp.join(args.work_dir, name)
        cfg.work_dir = run_dir
        os.makedirs(run_dir, exist_ok=True)
        cfg_path = osp.join(args.work_dir, f'{name}.py')
        cfg.dump(cfg_path)
        print(f'[learning] training {name} ({args.iters} iterations) in {run_dir}', flush=True)
        subprocess.run([sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'), cfg_path,
                        '--work-dir', run_dir], check=True)
        history = evaluations(run_dir)
        summary['runs'].append(dict(model=name, config=config, **history[-1],
                                    history=history))
        with open(out, 'w') as f:  # after every model: a later failure keeps the others
            json.dump(summary, f, indent=1)
    plot_mask_ap(summary['runs'], osp.join(args.work_dir, 'mask_ap.png'))
    for r in summary['runs']:
        print(f"{r['model']:48s} bbox mAP {r.get('coco/bbox_mAP')}  "
              f"segm mAP {r.get('coco/segm_mAP')}")
    return summary


if __name__ == '__main__':
    main()
