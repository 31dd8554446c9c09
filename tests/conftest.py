"""Shared fixtures and builders: a small synthetic dataset, the tiny configs that train on
it and the models they describe, and the package built and installed as a wheel."""
import copy
import glob
import importlib.util
import os
import os.path as osp
import subprocess
import sys
from types import ModuleType
from typing import List

import pytest
import torch
from mmengine.config import Config

from mmdet_dr1mask.support import SyntheticConfig, generate_split, retarget_data_root

TESTS_DIR = osp.dirname(osp.abspath(__file__))
REPO_ROOT = osp.dirname(TESTS_DIR)
TINY_CONFIG = osp.join(TESTS_DIR, 'data', 'configs', 'condinst_r18_tiny_synthetic.py')
# coco128-seg (128 real COCO photos): where the README puts it, else the copy shared beside
# the checkout; tests that need it skip where neither exists
COCO128_SEG = next(
    (path for path in (osp.join(REPO_ROOT, 'data', 'coco128-seg'),
                       osp.join(REPO_ROOT, '..', 'shared', 'data', 'coco128-seg'))
     if osp.isdir(path)), osp.join(REPO_ROOT, 'data', 'coco128-seg'))
# the shipped tiny synthetic configs, by the model the tests call them
TINY_MODEL_CONFIGS = {
    'DR1Mask': 'configs/dr1mask/dr1mask_r18_fpn_tiny_synthetic.py',
    'BlendMask': 'configs/blendmask/blendmask_r18_fpn_tiny_synthetic.py',
    'DR1Mask-panoptic': 'configs/dr1mask/dr1mask_r18_fpn_tiny_synthetic-panoptic.py',
    'BlendMask-panoptic': 'configs/blendmask/blendmask_r18_fpn_tiny_synthetic-panoptic.py',
    'KNet': 'configs/knet/knet-s3_r18_fpn_tiny_synthetic.py',
    'KNet-panoptic': 'configs/knet/knet-s3_r18_fpn_tiny_synthetic-panoptic.py',
}


def load_tool(relpath: str) -> ModuleType:
    """Import a script under ``tools/`` (they are not a package) by its path."""
    path = osp.join(REPO_ROOT, 'tools', relpath)
    spec = importlib.util.spec_from_file_location(osp.splitext(osp.basename(path))[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='session')
def synthetic_root(tmp_path_factory) -> str:
    """8 train and 3 val images of 96x128 (instances + panoptic), written once per run."""
    root = str(tmp_path_factory.mktemp('synthetic_data'))
    cfg = SyntheticConfig(img_size=(96, 128), max_things=4, crowd_prob=0.25, void_prob=0.25)
    generate_split(root, 'train', 8, seed=0, cfg=cfg)
    generate_split(root, 'val', 3, seed=0, cfg=cfg)
    return root


def run_checked(command: List[str], **kwargs) -> str:
    """Run ``command``; its stdout and stderr, or a failed assert showing their ends."""
    proc = subprocess.run(command, capture_output=True, text=True, timeout=600, **kwargs)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


@pytest.fixture(scope='session')
def installed_wheel(tmp_path_factory) -> dict:
    """The package as pip installs it from PyPI: the sdist of this checkout, the wheel
    built from that sdist (``python -m build``), installed with ``pip install --target``
    into a fresh folder, written once per run.

    Returns:
        dict: ``sdist`` and ``wheel`` (file paths), ``target`` (the install folder) and
        ``env`` (``os.environ`` with ``target`` first on ``PYTHONPATH``, so that a
        subprocess imports, and mim finds, the installed copy rather than the checkout).
    """
    pytest.importorskip('build', reason='`python -m build` is not installed '
                        '(requirements/tests.txt)')
    dist, target = tmp_path_factory.mktemp('dist'), tmp_path_factory.mktemp('site')
    # --no-isolation: built with this environment's setuptools and wheel, offline
    run_checked([sys.executable, '-m', 'build', '--no-isolation', '--outdir', str(dist),
                 REPO_ROOT])
    (sdist, ), (wheel, ) = glob.glob(str(dist / '*.tar.gz')), glob.glob(str(dist / '*.whl'))
    run_checked([sys.executable, '-m', 'pip', 'install', '--no-deps', '--no-index',
                 '--target', str(target), wheel])
    env = dict(os.environ, PYTHONWARNINGS='ignore', PYTHONPATH=os.pathsep.join(
        p for p in (str(target), os.environ.get('PYTHONPATH')) if p))
    return dict(sdist=sdist, wheel=wheel, target=str(target), env=env)


@pytest.fixture
def tiny_cfg(synthetic_root, tmp_path) -> Config:
    """The tiny CondInst config on the synthetic data, writing into a fresh work_dir."""
    cfg = retarget_data_root(Config.fromfile(TINY_CONFIG), synthetic_root)
    cfg.work_dir = str(tmp_path / 'work_dir')
    return cfg


def tiny_model_config(name: str) -> Config:
    """The shipped tiny config of ``name``, a key of ``TINY_MODEL_CONFIGS``."""
    return Config.fromfile(osp.join(REPO_ROOT, TINY_MODEL_CONFIGS[name]))


def build_tiny_model(model_cfg):
    """The model of ``model_cfg`` (or of the tiny config named so) from seed 0, initialised."""
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules

    import mmdet_dr1mask  # noqa: F401  (registers the modules)
    register_all_modules()
    if isinstance(model_cfg, str):
        model_cfg = tiny_model_config(model_cfg).model
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(model_cfg))
    model.init_weights()
    return model


def set_score_thr(model, thr: float) -> None:
    """Set every score threshold of a DR1Mask or BlendMask model (instance and panoptic)."""
    model.bbox_head.test_cfg.score_thr = thr
    if getattr(model, 'panoptic_head', None) is not None and \
            hasattr(model.panoptic_head, 'score_thr'):  # DR1PanopticHead
        model.panoptic_head.score_thr = thr
    if hasattr(model, 'instance_score_thr'):  # BlendMask's fusion
        model.instance_score_thr = thr


def run_model(model, batch: dict, mode: str):
    """Preprocess a collated ``batch`` and run ``model`` in ``mode`` ('loss', 'predict')."""
    data = model.data_preprocessor(copy.deepcopy(batch), training=mode == 'loss')
    return model(**data, mode=mode)


def image_batch(h: int, w: int, scale: float = 1.0) -> dict:
    """A collated batch of one random image of original size (h, w) resized by ``scale``."""
    from mmdet.structures import DetDataSample
    size = (int(h * scale), int(w * scale))
    sample = DetDataSample(metainfo=dict(img_shape=size, ori_shape=(h, w),
                                         scale_factor=(scale, scale)))
    return dict(inputs=[torch.randint(0, 255, (3, *size), dtype=torch.uint8)],
                data_samples=[sample])


def synthetic_panoptic_val(root: str, meta_keys: tuple = ()):
    """The val split of the synthetic panoptic data at ``root``, loaded and packed as a
    test pipeline does (images, boxes, masks, panoptic PNG); ``meta_keys`` extends
    PackDetInputs' meta keys."""
    from mmdet.datasets import CocoPanopticDataset
    from mmdet.datasets.transforms.formatting import PackDetInputs

    from mmdet_dr1mask.support import SYNTHETIC_PANOPTIC_METAINFO
    return CocoPanopticDataset(
        data_root=root, ann_file='annotations/panoptic_val.json',
        data_prefix=dict(img='val/', seg='annotations/panoptic_val/'),
        metainfo=SYNTHETIC_PANOPTIC_METAINFO, test_mode=True, pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadPanopticAnnotations', with_bbox=True, with_mask=True, with_seg=True),
            dict(type='PackDetInputs',
                 meta_keys=PackDetInputs().meta_keys + tuple(meta_keys))])
