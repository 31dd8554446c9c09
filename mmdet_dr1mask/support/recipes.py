"""What the tools share: loading a config, aiming it at other data with a shorter
schedule, listing images, building an inference pipeline, and re-running a tool in a fresh
process.

The demo, the tests, the benchmark scripts (through ``tools/train.py --data-root
--iters``) and the learning benchmark all train a shipped config on another data root for
fewer iterations; they all do it with ``retarget_data_root`` and ``shorten_schedule``, so
that the rule (which keys move, where the lr drops) is written once.
"""
import os
import sys
from typing import Any, Callable, Dict, List, Optional, Sequence

from mmdet.registry import TRANSFORMS
from mmengine.config import Config, ConfigDict
from mmengine.dataset import Compose
from mmengine.hub import get_config

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp')
DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
EVALUATORS = ('val_evaluator', 'test_evaluator')
EVALUATOR_PATH_KEYS = ('ann_file', 'seg_prefix')
ANNOTATION_LOADERS = ('LoadAnnotations', 'LoadPanopticAnnotations', 'CheckedLoadAnnotations',
                      'CheckedLoadPanopticAnnotations')


def load_config(config: str) -> Config:
    """A config file, or an OpenMMLab package's own, e.g.
    ``mmdet::condinst/condinst_r50_fpn_ms-poly-90k_coco_instance.py``."""
    return get_config(config) if '::' in config else Config.fromfile(config)


def inference_pipeline(cfg: Config, resize: Optional[Sequence[int]] = None) -> Compose:
    """``cfg``'s test pipeline without annotation loading; ``resize`` (W, H) replaces
    every ``Resize`` scale."""
    pipeline = []
    for step in cfg.test_dataloader.dataset.pipeline:
        if step['type'] in ANNOTATION_LOADERS:
            continue
        step = ConfigDict(step)
        if resize and step['type'] == 'Resize':
            step.scale = tuple(resize)
        pipeline.append(TRANSFORMS.build(step))
    return Compose(pipeline)


def list_images(folder: str) -> List[str]:
    """The image files (``IMAGE_EXTS``) directly in ``folder``, sorted by name.

    Raises:
        FileNotFoundError: ``folder`` does not exist or holds no image file.
    """
    if not os.path.isdir(folder):
        raise FileNotFoundError(f'{folder} is not a folder')
    files = sorted(f for f in os.listdir(folder) if f.lower().endswith(IMAGE_EXTS))
    if not files:
        raise FileNotFoundError(f'no image files ({"/".join(IMAGE_EXTS)}) in {folder}')
    return [os.path.join(folder, f) for f in files]


def _as_list(value) -> list:
    return value if isinstance(value, (list, tuple)) else [value]


def _innermost_dataset(dataset: ConfigDict) -> ConfigDict:
    # RepeatDataset / ClassBalancedDataset wrap the real dataset one level down
    while 'data_root' not in dataset and isinstance(dataset.get('dataset'), dict):
        dataset = dataset.dataset
    return dataset


def retarget_data_root(cfg: Config, data_root: str) -> Config:
    """Aim every dataloader and evaluator of ``cfg`` at ``data_root``, in place.

    Each dataloader's dataset gets ``data_root``; an evaluator path (``ann_file``,
    ``seg_prefix``) that lay under the config's old data root is moved under the new one
    with the same relative path, so the new root must have the config's layout.

    Raises:
        KeyError: a dataloader's dataset has no ``data_root`` to replace.
    """
    new_root = data_root.rstrip('/') + '/'
    old_roots = set()
    for key in DATALOADERS:
        if cfg.get(key) is None:
            continue
        dataset = _innermost_dataset(cfg[key].dataset)
        if 'data_root' not in dataset:
            raise KeyError(f'{key}.dataset has no data_root to point at {new_root}')
        if dataset.data_root:
            old_roots.add(dataset.data_root.rstrip('/') + '/')
        dataset.data_root = new_root
    for key in EVALUATORS:
        for evaluator in _as_list(cfg.get(key)) if cfg.get(key) is not None else []:
            for field in EVALUATOR_PATH_KEYS:
                path = evaluator.get(field)
                old = next((r for r in old_roots if path and path.startswith(r)), None)
                if old is not None:
                    evaluator[field] = new_root + path[len(old):]
    return cfg


def shorten_schedule(cfg: Config, iters: int, lr_drops: Sequence[float] = (5 / 6, ),
                     val_interval: Optional[int] = None,
                     checkpoint_interval: Optional[int] = None) -> Config:
    """Train ``cfg`` for ``iters`` iterations, in place.

    ``MultiStepLR`` drops the lr at the fractions ``lr_drops`` of ``iters``; every other
    scheduler ends at ``iters`` (a warm-up that would outlast the run is cut to it);
    evaluation and checkpoints come every ``val_interval`` / ``checkpoint_interval``
    iterations (default: once, at the end).

    Raises:
        ValueError: ``iters`` < 1, or the config trains by epoch.
    """
    if iters < 1:
        raise ValueError(f'iters must be >= 1, got {iters}')
    loop = cfg.get('train_cfg') or {}
    if loop.get('type', 'IterBasedTrainLoop') != 'IterBasedTrainLoop':
        raise ValueError(f'train_cfg.type {loop.get("type")!r}: only IterBasedTrainLoop '
                         'schedules can be shortened by iterations')
    cfg.train_cfg.max_iters = iters
    cfg.train_cfg.val_interval = val_interval or iters
    for scheduler in _as_list(cfg.get('param_scheduler') or []):
        if scheduler.type == 'MultiStepLR':
            scheduler.begin, scheduler.end = 0, iters
            scheduler.milestones = [int(iters * f) for f in lr_drops]
        elif scheduler.type == 'LinearLR' and scheduler.get('end', iters) < iters:
            continue  # a warm-up that ends inside the run stays as the config has it
        else:
            scheduler.end = iters
    if cfg.get('default_hooks', {}).get('checkpoint') is not None:
        cfg.default_hooks.checkpoint.interval = checkpoint_interval or iters
    return cfg


def child_process(script: str, *args: str, root: str) -> Dict[str, Any]:
    """``subprocess.run``/``Popen`` keyword arguments that run ``python SCRIPT child ARGS...``
    in the checkout ``root``, with ``root`` first on ``PYTHONPATH``: how a tool measures or
    kills a fresh process of itself (its ``main`` passes the arguments to ``run_child``)."""
    path = os.pathsep.join(p for p in (root, os.environ.get('PYTHONPATH')) if p)
    return dict(args=[sys.executable, os.path.abspath(script), 'child', *args],
                env=dict(os.environ, PYTHONPATH=path), cwd=root)


def run_child(argv: Optional[List[str]], child: Callable[[List[str]], None]
              ) -> Optional[List[str]]:
    """A tool's command-line arguments (``sys.argv[1:]`` when None), or None after running
    ``child`` on the rest when they start with ``child`` (see ``child_process``)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ['child']:
        child(argv[1:])
        return None
    return argv
