"""Every config under configs/ loads, builds its model and feeds its train pipeline.

Also checks that each ablation differs from the config it ablates in exactly the keys of
its paper-table row, that the custom-dataset config derives ``num_classes`` from its
classes (in the file and on the command line it documents), and that the model-zoo
metafiles only point at existing configs.
"""
import argparse
import copy
import glob
import os.path as osp
import re
import shlex

import pytest
import torch
import yaml
from conftest import COCO128_SEG, REPO_ROOT
from mmdet.datasets import CocoDataset
from mmdet.registry import DATASETS, MODELS
from mmdet.utils import register_all_modules
from mmengine.config import Config, DictAction
from mmengine.dataset import pseudo_collate

import mmdet_dr1mask  # noqa: F401  (registers the modules)
from mmdet_dr1mask.support import retarget_data_root

register_all_modules()

CONFIG_DIR = osp.join(REPO_ROOT, 'configs')
CONFIGS = sorted(
    osp.relpath(path, CONFIG_DIR)
    for path in glob.glob(osp.join(CONFIG_DIR, '**', '*.py'), recursive=True)
    if not osp.relpath(path, CONFIG_DIR).startswith('_base_'))
SYNTHETIC_CLASSES = ('disk', 'box', 'triangle')
SYNTHETIC_PANOPTIC_METAINFO = Config.fromfile(
    osp.join(CONFIG_DIR, '_base_', 'datasets', 'synthetic_panoptic.py')).metainfo

ONE_X = 'dr1mask/dr1mask_r50_fpn_1x_coco.py'
THREE_X = 'dr1mask/dr1mask_r50_fpn_ms-3x_coco.py'
ABL = 'dr1mask/ablations/'
PAN_ONE_X = 'dr1mask/dr1mask_r50_fpn_1x_coco-panoptic.py'
PAN_THREE_X = 'dr1mask/dr1mask_r50_fpn_ms-3x_coco-panoptic.py'
ABSENT = object()  # config_diff's value for a key the config does not have
ATTENTION = 'model.mask_head.attention.'
VECTOR = {ATTENTION + 'type': 'VectorAttention', ATTENTION + 'num_bases': ABSENT,
          ATTENTION + 'attention_size': ABSENT, ATTENTION + 'factor_rank': ABSENT}


def load(rel_path: str) -> Config:
    return Config.fromfile(osp.join(CONFIG_DIR, rel_path))


def test_configs_are_found():
    assert ONE_X in CONFIGS and 'blendmask/blendmask_r50_fpn_1x_coco.py' in CONFIGS
    unchecked = {c for c in CONFIGS if c.startswith(ABL)} - set(ABLATIONS)
    assert not unchecked, 'give each ablation its expected difference in ABLATIONS'


# ----------------------------------------------------------------- model building
def expected_embedding_channels(d: int, attention: dict) -> int:
    """E by attention for a D-wide basis (docs/paper_map.md: vector D; full D*K + K*R^2,
    K*R^2 without projection; factored D*K + K*r)."""
    if attention['type'] == 'VectorAttention':
        return d
    k = attention['num_bases']
    projection = d * k if attention.get('use_projection', True) else 0
    if attention['type'] == 'FullAttention':
        return projection + k * attention['attention_size'] ** 2
    return projection + k * attention['factor_rank']


@pytest.mark.parametrize('rel_path', CONFIGS)
def test_config_loads_and_builds(rel_path):
    cfg = load(rel_path)
    assert 'mmdet_dr1mask' in cfg.custom_imports['imports']
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone.init_cfg = None  # no weight download in tests
    model = MODELS.build(model_cfg)
    assert type(model).__name__ == cfg.model.type
    if cfg.model.type == 'KNet':
        check_knet(model, rel_path)
        return
    if cfg.model.type == 'FCOS':  # configs/reuse: DR1FCOSHead as a plain FCOS head
        assert (model.bbox_head.context_channels, model.bbox_head.embedding_channels) == (0, 0)
        return

    head = model.bbox_head
    # D is stated once, in basis_head, and reaches every part that reads the basis
    d = model.basis_head.out_channels
    assert model.mask_head.basis_channels == d
    assert head.embedding_channels == expected_embedding_channels(d, cfg.model.mask_head.attention)
    assert head.context_channels == model.basis_head.context_channels
    if cfg.model.basis_head.type == 'BlendMaskBasis':
        assert (head.context_channels, head.embedding_channels) == (0, 4 * 14 * 14)
    else:
        basis = model.basis_head  # D for each dynamic factor that is on
        assert head.context_channels == basis.channels * (basis.use_a + basis.use_b)
    if model.semantic_head is not None:
        assert head.num_classes == model.semantic_head.num_classes
        if model.semantic_head.input == 'basis':
            assert model.semantic_head.conv_seg.in_channels == d
    if cfg.model.get('panoptic_head') and cfg.model.type == 'DR1Mask':
        assert model.panoptic_head.in_channels == d
        stuff = len(cfg.stuff_classes) if 'stuff_classes' in cfg else (  # the template's
            4 if 'synthetic' in rel_path else 53)
        assert model.panoptic_head.num_stuff_classes == stuff
    if cfg.model.get('panoptic_head') and cfg.model.type == 'BlendMask':  # two branches
        assert type(model.panoptic_head).__name__ == 'PanopticFPNHead'
        assert model.panoptic_fusion_head.test_cfg.mask_overlap == 0.4
        # Detectron2's semantic FPN head: P2-P5 of an FPN that also outputs P2
        assert (model.panoptic_head.start_level, model.panoptic_head.end_level) == (0, 4)
        assert model.neck.num_outs == 6 and model.instance_start_level == 1
        assert model.panoptic_head.loss_seg.avg_non_ignore
        # BlendMask's 0.45 on COCO; the tiny synthetic one uses the DR1Mask tiny config's 0.3
        assert model.instance_score_thr == (0.3 if 'synthetic' in rel_path else 0.45)
    assert model.data_preprocessor.pad_size_divisor == \
        cfg.model.data_preprocessor.pad_size_divisor
    if cfg.model.backbone.depth == 101:
        assert len(model.backbone.layer3) == 23
    if cfg.model.backbone.get('dcn'):  # AdelaiDet dcni3: blocks 0, 3, 6, ... of C3-C5
        convs = [type(getattr(model.backbone, f'layer{i}')[j].conv2).__name__
                 for i in range(1, 5) for j in (0, 1)]
        assert convs == ['Conv2d'] * 2 + ['ModulatedDeformConv2dPack', 'Conv2d'] * 3


def check_knet(model, rel_path: str) -> None:
    """The official K-Net-s3 recipe (github.com/ZwwWayne/K-Net configs/det/knet)."""
    tiny = 'synthetic' in rel_path
    things, stuff = (3, 4) if tiny else (80, 53)
    panoptic = 'panoptic' in rel_path
    head, iters = model.kernel_head, model.iter_head
    assert (head.num_thing_classes, head.num_stuff_classes) == (things, stuff * panoptic)
    assert len(iters.stages) == 3 and head.num_proposals == iters.num_proposals == \
        (20 if tiny else 100)
    assert all(s.num_classes == things + stuff * panoptic for s in iters.stages)
    stage = iters.stages[0]
    head_masks, stage_masks = head.loss_kernel_mask, stage.loss_kernel_mask
    weights = (head.loss_seg.loss_weight, head_masks.loss_mask.loss_weight,
               head_masks.loss_dice.loss_weight, stage.loss_cls.loss_weight,
               stage_masks.loss_mask.loss_weight, stage_masks.loss_dice.loss_weight)
    assert weights == (1.0, 1.0, 4.0, 2.0, 1.0, 4.0)
    assert (head_masks.loss_rank is not None) == (stage_masks.loss_rank is not None) == panoptic
    costs = [(type(c).__name__, c.weight) for c in iters.assigner.match_costs]
    assert costs == [('FocalLossCost', 2.0), ('MaskAgreementCost', 1.0), ('DiceCost', 4.0)]
    assert [(type(c).__name__, c.weight) for c in head.assigner.match_costs] == costs[1:]
    if panoptic:
        assert head_masks.loss_rank.loss_weight == stage_masks.loss_rank.loss_weight == 0.1
    # the official merge filters stuff by neither score nor area
    assert (iters.overlap_thr, iters.instance_score_thr) == (0.6, 0.3)
    assert iters.stuff_score_thr is None and iters.stuff_max_area is None
    assert model.data_preprocessor.pad_size_divisor == 32
    if not tiny:
        cfg = load(rel_path)
        assert cfg.optim_wrapper.optimizer == dict(type='AdamW', lr=1e-4, weight_decay=0.05)
        assert cfg.optim_wrapper.clip_grad.max_norm == 1
        assert cfg.train_cfg.max_epochs == (36 if 'ms-3x' in rel_path else 12)
        assert cfg.train_dataloader.batch_size == 2  # x 8 GPUs = 16


# ------------------------------------------------------------------ train pipeline
@pytest.mark.parametrize('rel_path', CONFIGS)
def test_train_pipeline_runs_on_synthetic_data(rel_path, synthetic_root):
    """One sample of the config's own train pipeline, on the synthetic instances (or,
    for a panoptic dataset, panoptic) annotations."""
    dataset_cfg = copy.deepcopy(load(rel_path).train_dataloader.dataset)
    panoptic = dataset_cfg.type.endswith('CocoPanopticDataset')
    if panoptic:
        dataset_cfg.update(
            ann_file='annotations/panoptic_train.json',
            data_prefix=dict(img='train/', seg='annotations/panoptic_train/'),
            metainfo=SYNTHETIC_PANOPTIC_METAINFO)
    else:
        dataset_cfg.update(
            ann_file='annotations/instances_train.json',
            data_prefix=dict(img='train/'),
            metainfo=dict(classes=SYNTHETIC_CLASSES))
    dataset_cfg.data_root = synthetic_root.rstrip('/') + '/'
    dataset = DATASETS.build(dataset_cfg)
    sample = dataset[0]
    inputs, gt = sample['inputs'], sample['data_samples'].gt_instances
    if panoptic:
        sem_seg = sample['data_samples'].gt_sem_seg.sem_seg
        assert tuple(sem_seg.shape[-2:]) == tuple(inputs.shape[1:])
    assert inputs.ndim == 3 and inputs.shape[0] == 3
    assert len(gt) > 0
    assert len(gt.masks) == len(gt.bboxes) == len(gt.labels)
    assert (gt.masks.height, gt.masks.width) == tuple(inputs.shape[1:])
    assert int(gt.labels.max()) < len(SYNTHETIC_CLASSES)


# -------------------------------------------------------------------- ablations
# config -> (the config it ablates, {flattened key: value} of every difference)
ABLATIONS = {
    # Table 1 (vector embedding) / Table 3 / Table 4 "Vector"
    ABL + 'dr1mask_r50_fpn_1x_coco_vector.py': (ONE_X, VECTOR),
    ABL + 'dr1mask_r50_fpn_1x_coco_vector-wo-ab.py': (ONE_X, {
        **VECTOR, 'model.basis_head.use_a': False, 'model.basis_head.use_b': False}),
    ABL + 'dr1mask_r50_fpn_1x_coco_vector-w-a.py': (ONE_X, {
        **VECTOR, 'model.basis_head.use_b': False}),
    ABL + 'dr1mask_r50_fpn_1x_coco_vector-w-b.py': (ONE_X, {
        **VECTOR, 'model.basis_head.use_a': False}),
    # Table 3
    ABL + 'dr1mask_r50_fpn_1x_coco_vector-top-fpn.py': (ONE_X, {
        **VECTOR, 'model.bbox_head.top_input': 'fpn'}),
    ABL + 'dr1mask_r50_fpn_1x_coco_vector-top-cls-tower.py': (ONE_X, {
        **VECTOR, 'model.bbox_head.top_input': 'class_tower'}),
    # Table 4
    ABL + 'dr1mask_r50_fpn_1x_coco_full.py': (ONE_X, {
        ATTENTION + 'type': 'FullAttention', ATTENTION + 'factor_rank': ABSENT,
        ATTENTION + 'use_projection': True}),
    # Table 5 (instance versions)
    ABL + 'dr1mask_r50_fpn_1x_coco_pad32-instance.py': (ONE_X, {
        'model.data_preprocessor.pad_size_divisor': 32,
        'model.basis_head.upsample_mode': 'bilinear'}),
    ABL + 'dr1mask_r50_fpn_1x_coco_pad128-instance.py': (ONE_X, {
        'model.data_preprocessor.pad_size_divisor': 128,
        'model.basis_head.upsample_mode': 'bilinear'}),
    # Table 6 (instance versions, 3x)
    **{ABL + f'dr1mask_r50_fpn_ms-3x_coco_d{d}-instance.py': (THREE_X, {
        'model.basis_head.channels': d})
       for d in (64, 128)},
    # Table 2 (panoptic, 1x)
    ABL + 'dr1mask_r50_fpn_1x_coco-panoptic_wo-ab.py': (PAN_ONE_X, {
        'model.basis_head.use_a': False, 'model.basis_head.use_b': False}),
    # Table 5 (panoptic, 1x)
    ABL + 'dr1mask_r50_fpn_1x_coco-panoptic_pad32.py': (PAN_ONE_X, {
        'model.data_preprocessor.pad_size_divisor': 32,
        'model.basis_head.upsample_mode': 'bilinear'}),
    ABL + 'dr1mask_r50_fpn_1x_coco-panoptic_pad128.py': (PAN_ONE_X, {
        'model.data_preprocessor.pad_size_divisor': 128,
        'model.basis_head.upsample_mode': 'bilinear'}),
    # Table 6 (panoptic, 3x)
    **{ABL + f'dr1mask_r50_fpn_ms-3x_coco-panoptic_d{d}.py': (PAN_THREE_X, {
        'model.basis_head.channels': d})
       for d in (32, 128)},
    # Table 7 (panoptic, 1x)
    ABL + 'dr1mask_r50_fpn_1x_coco-panoptic_factored.py': (PAN_ONE_X, {
        ATTENTION + 'type': 'FactoredAttention', ATTENTION + 'num_bases': 4,
        ATTENTION + 'attention_size': 14, ATTENTION + 'factor_rank': 4}),
}
DERIVED = {
    THREE_X: (ONE_X, {
        'max_iters': 270000, 'train_cfg.max_iters': 270000,
        'param_scheduler': [
            dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=1000),
            dict(type='MultiStepLR', begin=0, end=270000, by_epoch=False,
                 milestones=[180000, 240000], gamma=0.1)]}),
    'dr1mask/dr1mask_r101_fpn_ms-3x_coco.py': (THREE_X, {
        'model.backbone.depth': 101,
        'model.backbone.init_cfg.checkpoint': 'open-mmlab://detectron2/resnet101_caffe'}),
    'dr1mask/dr1mask_r101-dcn_fpn_ms-3x_coco.py': ('dr1mask/dr1mask_r101_fpn_ms-3x_coco.py', {
        'model.backbone.type': 'ResNetDCNInterval', 'model.backbone.dcn_interval': 3,
        'model.backbone.dcn.type': 'DCNv2', 'model.backbone.dcn.deform_groups': 1,
        'model.backbone.dcn.fallback_on_stride': False,
        'model.backbone.stage_with_dcn': (False, True, True, True)}),
    'dr1mask/dr1mask_r101_fpn_ms-3x_coco-panoptic.py': (PAN_THREE_X, {
        'model.backbone.depth': 101,
        'model.backbone.init_cfg.checkpoint': 'open-mmlab://detectron2/resnet101_caffe'}),
    'dr1mask/dr1mask_r101-dcn_fpn_ms-3x_coco-panoptic.py': (
        'dr1mask/dr1mask_r101_fpn_ms-3x_coco-panoptic.py', {
            'model.backbone.type': 'ResNetDCNInterval', 'model.backbone.dcn_interval': 3,
            'model.backbone.dcn.type': 'DCNv2', 'model.backbone.dcn.deform_groups': 1,
            'model.backbone.dcn.fallback_on_stride': False,
            'model.backbone.stage_with_dcn': (False, True, True, True)}),
    # not in the paper: the optional panoptic-layer variants (docs/paper_map.md)
    'dr1mask/dr1mask_r50_fpn_ms-3x_coco-panoptic_things-in-boxes.py': (PAN_THREE_X, {
        'model.panoptic_head.things_in_boxes': True}),
    'dr1mask/dr1mask_r50_fpn_ms-3x_coco-panoptic_position-prior.py': (PAN_THREE_X, {
        'model.panoptic_head.position_prior': True}),
}


def flatten(value, prefix: str = '') -> dict:
    """Nested dicts -> {'a.b.c': leaf}; lists and tuples are leaves."""
    if not isinstance(value, dict):
        return {prefix.rstrip('.'): value}
    out = {}
    for key, sub in value.items():
        out.update(flatten(sub, f'{prefix}{key}.'))
    return out


def config_diff(cfg: Config, ref: Config) -> dict:
    """{key: value in cfg} for every flattened key whose value differs from ref."""
    a, b = flatten(cfg.to_dict()), flatten(ref.to_dict())
    return {k: a.get(k, ABSENT) for k in a.keys() | b.keys()
            if a.get(k, ABSENT) != b.get(k, ABSENT)}


@pytest.mark.parametrize('rel_path', sorted({**ABLATIONS, **DERIVED}))
def test_config_differs_from_its_reference_in_exactly_the_intended_keys(rel_path):
    ref_path, expected = {**ABLATIONS, **DERIVED}[rel_path]
    assert config_diff(load(rel_path), load(ref_path)) == expected


def test_blendmask_shares_data_and_schedule_with_dr1mask_1x():
    blendmask = load('blendmask/blendmask_r50_fpn_1x_coco.py')
    diff = config_diff(blendmask, load(ONE_X))
    assert diff and all(key.startswith('model.') for key in diff)
    assert blendmask.model.data_preprocessor.pad_size_divisor == 32
    assert blendmask.model.basis_head.upsample_mode == 'bilinear'


def test_table1_baseline_has_no_dynamic_factor_and_vector_attention():
    model = load(ABL + 'dr1mask_r50_fpn_1x_coco_vector-wo-ab.py').model
    assert model.basis_head.use_a is False and model.basis_head.use_b is False
    assert model.mask_head.attention == dict(type='VectorAttention')


# ------------------------------------------------------------------- custom coco
CUSTOM = 'dr1mask/dr1mask_r50_fpn_1x_custom-coco.py'


def check_classes_followed(cfg: Config, classes: tuple) -> None:
    assert cfg.model.bbox_head.num_classes == len(classes)
    assert cfg.model.semantic_head.num_classes == len(classes)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert tuple(cfg[key].dataset.metainfo.classes) == classes


def test_custom_coco_num_classes_follow_classes(tmp_path):
    cfg = load(CUSTOM)
    check_classes_followed(cfg, tuple(cfg.metainfo.classes))
    assert cfg.val_evaluator.ann_file == cfg.data_root + cfg.val_ann_file

    # editing the one `metainfo = dict(classes=...)` line is enough
    with open(osp.join(CONFIG_DIR, CUSTOM)) as f:
        text = f.read()
    text, count = re.subn(r"^metainfo = dict\(classes=.*\)$",
                          "metainfo = dict(classes=('cat', 'dog', 'bird'))", text,
                          flags=re.MULTILINE)
    assert count == 1
    text = text.replace("'./dr1mask_r50_fpn_1x_coco.py'",
                        repr(osp.join(CONFIG_DIR, ONE_X)))
    edited = tmp_path / 'custom.py'
    edited.write_text(text)
    check_classes_followed(Config.fromfile(str(edited)), ('cat', 'dog', 'bird'))


def test_custom_coco_command_line_in_its_header_is_complete():
    with open(osp.join(CONFIG_DIR, CUSTOM)) as f:
        lines = f.read().splitlines()
    start = next(i for i, line in enumerate(lines) if 'tools/train.py' in line)
    command = []
    for line in lines[start:]:
        command.append(line.lstrip('#').strip().rstrip('\\'))
        if not line.rstrip().endswith('\\'):
            break
    argv = shlex.split(' '.join(command))
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    options = parser.parse_args(argv[argv.index('--cfg-options'):]).cfg_options
    cfg = load(CUSTOM)
    cfg.merge_from_dict(options)
    check_classes_followed(cfg, ('cat', 'dog'))
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[key].dataset.data_root == 'data/pets/'
    for key in ('val_evaluator', 'test_evaluator'):
        assert cfg[key].ann_file == 'data/pets/' + cfg.val_ann_file


# ---------------------------------------------------------- custom coco panoptic
CUSTOM_PANOPTIC = 'dr1mask/dr1mask_r50_fpn_1x_custom-coco-panoptic.py'


def edited_custom_panoptic(tmp_path, **lines: str) -> Config:
    """The panoptic template with its ``name = ...`` lines replaced by ``lines``."""
    with open(osp.join(CONFIG_DIR, CUSTOM_PANOPTIC)) as f:
        text = f.read()
    for name, value in lines.items():
        text, count = re.subn(rf'^{name} = .*$', f'{name} = {value}', text, flags=re.MULTILINE)
        assert count == 1, name
    text = text.replace("'./dr1mask_r50_fpn_1x_coco-panoptic.py'",
                        repr(osp.join(CONFIG_DIR, PAN_ONE_X)))
    edited = tmp_path / 'custom_panoptic.py'
    edited.write_text(text)
    return Config.fromfile(str(edited))


def test_custom_panoptic_num_classes_follow_thing_and_stuff_classes(tmp_path):
    cfg = edited_custom_panoptic(tmp_path, thing_classes="('cat', 'dog', 'bird')",
                                 stuff_classes="('sky', 'grass')")
    assert cfg.model.bbox_head.num_classes == 3
    assert cfg.model.panoptic_head.num_things_classes == 3
    assert cfg.model.panoptic_head.num_stuff_classes == 2
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        metainfo = cfg[key].dataset.metainfo
        assert tuple(metainfo.classes) == ('cat', 'dog', 'bird', 'sky', 'grass')
        assert tuple(metainfo.thing_classes) == ('cat', 'dog', 'bird')
        assert tuple(metainfo.stuff_classes) == ('sky', 'grass')
    panoptic, instances = cfg.val_evaluator
    assert panoptic.ann_file == cfg.data_root + cfg.val_ann_file
    assert panoptic.seg_prefix == cfg.data_root + cfg.val_seg_prefix
    assert instances.ann_file == cfg.data_root + cfg.val_instances_ann_file
    assert [e.type for e in edited_custom_panoptic(
        tmp_path, val_instances_ann_file='None').val_evaluator] == ['CocoPanopticMetric']


def test_custom_panoptic_template_trains_a_step_on_a_panoptic_dataset(synthetic_root,
                                                                       tmp_path):
    """Filled in for the synthetic panoptic data, the template's model and loss run."""
    cfg = edited_custom_panoptic(
        tmp_path, data_root=repr(synthetic_root.rstrip('/') + '/'),
        thing_classes=repr(SYNTHETIC_PANOPTIC_METAINFO.thing_classes),
        stuff_classes=repr(SYNTHETIC_PANOPTIC_METAINFO.stuff_classes),
        train_img_prefix="'train/'", val_img_prefix="'val/'")
    # COCO's training scales would make the R-50 step take 20 s on a CPU; the image size is
    # not what this test is about
    for step in cfg.train_dataloader.dataset.pipeline:
        if step.type == 'RandomChoiceResize':
            step.scales = [(128, 96)]
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    model = MODELS.build(cfg.model)
    batch = model.data_preprocessor(pseudo_collate([dataset[0], dataset[1]]), training=True)
    losses = model(**batch, mode='loss')
    assert torch.isfinite(sum(v for k, v in losses.items() if 'loss' in k))


# ------------------------------------------------------------------ inheritance
def test_package_scoped_base_is_refused_by_mmengine_and_a_path_works(tmp_path):
    """README: `_base_ = 'mmdet_dr1mask::...'` is not supported; inherit by path."""
    scoped = tmp_path / 'scoped.py'
    scoped.write_text("_base_ = 'mmdet_dr1mask::dr1mask/dr1mask_r50_fpn_1x_coco.py'\n")
    with pytest.raises(AssertionError, match='does not support to load mmdet_dr1mask config'):
        Config.fromfile(str(scoped))
    mine = tmp_path / 'mine.py'
    mine.write_text(f'_base_ = {osp.relpath(osp.join(CONFIG_DIR, ONE_X), tmp_path)!r}\n')
    cfg = Config.fromfile(str(mine))
    assert cfg.model.type == 'DR1Mask' and cfg.custom_imports.imports == ['mmdet_dr1mask']


# ------------------------------------------------------------------ data paths
@pytest.mark.parametrize('rel_path', CONFIGS)
def test_config_data_lies_inside_the_repository(rel_path):
    """Data paths are relative to the repository root and stay below it (data/...)."""
    cfg = load(rel_path)
    paths = [cfg[key].dataset.get('data_root') or '' for key in
             ('train_dataloader', 'val_dataloader', 'test_dataloader') if cfg.get(key)]
    for key in ('val_evaluator', 'test_evaluator'):
        evaluators = cfg.get(key) or []
        for evaluator in evaluators if isinstance(evaluators, list) else [evaluators]:
            paths += [evaluator.get(field) or '' for field in ('ann_file', 'seg_prefix')]
    outside = [p for p in paths if osp.isabs(p) or osp.normpath(p).startswith('..')]
    assert not outside


# ----------------------------------------------------------------- coco128-seg
COCO128 = 'dr1mask/dr1mask_r50_fpn_coco128-seg.py'


@pytest.mark.skipif(not osp.isfile(osp.join(COCO128_SEG, 'instances_coco128seg.json')),
                    reason=f'coco128-seg is not at {COCO128_SEG}')
def test_coco128_config_reads_its_real_data():
    assert load(COCO128).train_dataloader.dataset.data_root == 'data/coco128-seg/'
    cfg = retarget_data_root(load(COCO128), COCO128_SEG)  # wherever the photos are here
    for key in ('train_dataloader', 'val_dataloader'):
        dataset = DATASETS.build(copy.deepcopy(cfg[key].dataset))
        assert dataset.metainfo['classes'] == CocoDataset.METAINFO['classes']
        assert 0 < len(dataset) <= 128
    assert len(dataset) == 128  # validation keeps the images without objects
    sample = DATASETS.build(cfg.train_dataloader.dataset)[0]  # the train pipeline, 1st image
    assert len(sample['data_samples'].gt_instances.masks) > 0
    assert osp.isfile(cfg.val_evaluator.ann_file)
    assert cfg.train_cfg.max_iters == cfg.param_scheduler[1]['end']
    assert cfg.param_scheduler[1]['milestones'][-1] < cfg.train_cfg.max_iters


# -------------------------------------------------------------------- metafiles
METAFILES = sorted(glob.glob(osp.join(CONFIG_DIR, '*', 'metafile.yml')))


def test_model_index_imports_every_metafile():
    with open(osp.join(REPO_ROOT, 'model-index.yml')) as f:
        imports = yaml.safe_load(f)['Import']
    assert sorted(osp.join(REPO_ROOT, path) for path in imports) == METAFILES


def test_metafiles_point_at_existing_configs_and_claim_no_results():
    assert [osp.basename(osp.dirname(m)) for m in METAFILES] == [
        'blendmask', 'dr1mask', 'knet']
    for metafile in METAFILES:
        with open(metafile) as f:
            meta = yaml.safe_load(f)
        with open(osp.join(osp.dirname(metafile), 'README.md')) as f:
            readme = f.read()
        collections = {c['Name'] for c in meta['Collections']}
        assert meta['Models']
        for model in meta['Models']:
            assert model['In Collection'] in collections
            assert osp.isfile(osp.join(REPO_ROOT, model['Config'])), model['Config']
            assert model['Name'] == osp.splitext(osp.basename(model['Config']))[0]
            assert model['Metadata']['Training Data'] == 'COCO'
            assert 'Results' not in model and 'Weights' not in model  # nothing trained yet
            assert osp.basename(model['Config']) in readme


def test_basis_width_is_32_for_the_1x_panoptic_ablations_and_64_for_3x():
    """Sec. 4.1: D = 32 for the ablations (Tables 2, 5, 7 name no other width); the 3x
    panoptic models use Table 6's 64."""
    for rel, width in ((PAN_ONE_X, 32), (ABL + 'dr1mask_r50_fpn_1x_coco-panoptic_wo-ab.py', 32),
                       (ABL + 'dr1mask_r50_fpn_1x_coco-panoptic_factored.py', 32),
                       (PAN_THREE_X, 64)):
        assert load(rel).model.basis_head.channels == width, rel


@pytest.mark.parametrize('rel_path', ['dr1mask/dr1mask_r18_fpn_tiny_synthetic.py',
                                      'blendmask/blendmask_r18_fpn_tiny_synthetic-panoptic.py'])
def test_no_weight_decay_on_norm_layers_as_detectron2(rel_path):
    """WEIGHT_DECAY_NORM: 0.0 (Detectron2, which AdelaiDet's BlendMask keeps): GN and BN
    weights and biases get no decay, convolutions the schedule's 1e-4; the COCO schedules
    say the same."""
    from mmengine.optim import build_optim_wrapper
    cfg = load(rel_path)
    model = MODELS.build(cfg.model)
    optimizer = build_optim_wrapper(model, cfg.optim_wrapper).optimizer
    decay = {id(p): group['weight_decay'] for group in optimizer.param_groups
             for p in group['params']}
    norms = (torch.nn.GroupNorm, torch.nn.modules.batchnorm._BatchNorm)
    for module in model.modules():
        for p in module.parameters(recurse=False):
            expected = 0.0 if isinstance(module, norms) else 1e-4
            assert decay[id(p)] == expected, type(module).__name__
    for schedule in ('schedule_90k.py', 'schedule_270k.py'):
        schedule_cfg = Config.fromfile(osp.join(CONFIG_DIR, '_base_', 'schedules', schedule))
        assert schedule_cfg.optim_wrapper.paramwise_cfg.norm_decay_mult == 0.0
