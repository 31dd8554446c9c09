"""The tiny configs train exactly as before the structural refactoring of parts and configs.

For each tiny synthetic config: fixed seed, the first two training images of the
synthetic test dataset (the config's own pipeline and optimizer), three SGD/AdamW
steps; the loss values of every step must equal the recorded ones (steps 1-2 within
1e-4, step 3 within 1e-2: see the test for why). A change in
the order modules are built or initialised, or in any computation, changes them.

The state dict keys and shapes are checked too, so old checkpoints still load.

``RECORD=1 pytest tests/test_behaviour_unchanged.py -s`` prints fresh values.
"""
import hashlib
import os
import os.path as osp

import pytest
from conftest import REPO_ROOT
from mmdet.registry import DATASETS, MODELS
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper
from mmengine.runner import set_random_seed

import mmdet_dr1mask  # noqa: F401  (registers the modules)
from mmdet_dr1mask.support import retarget_data_root

register_all_modules()
STEPS = 3

# Recorded at commit 2c69038, before attention modules were registered, widths stated once
# and K-Net's mask losses made one module.
REFERENCE = {
    'configs/blendmask/blendmask_r18_fpn_tiny_synthetic-panoptic.py': {
        'loss_cls': (1.156764, 1.098211, 0.997177),
        'loss_bbox': (0.999938, 0.999949, 0.999974),
        'loss_centerness': (0.692724, 0.665284, 0.648206),
        'loss_mask': (0.685907, 0.680692, 0.673386),
        'loss_semantic': (0.436779, 0.434802, 0.430931),
        'loss_seg': (0.800026, 0.795534, 0.787523),
    },
    'configs/dr1mask/dr1mask_r18_fpn_tiny_synthetic-panoptic.py': {
        'loss_cls': (1.146734, 1.020352, 0.719844),
        'loss_bbox': (0.999449, 0.999687, 0.999313),
        'loss_centerness': (0.678208, 0.667883, 0.658869),
        'loss_mask': (0.718428, 0.669545, 0.667181),
        'loss_panoptic': (1.861481, 1.860431, 1.765882),
    },
    'configs/dr1mask/dr1mask_r18_fpn_tiny_synthetic.py': {
        'loss_cls': (1.190335, 1.035163, 0.853156),
        'loss_bbox': (0.999505, 0.999445, 0.999264),
        'loss_centerness': (0.702791, 0.662862, 0.656578),
        'loss_mask': (0.677397, 0.662124, 0.632652),
        'loss_semantic': (0.533653, 0.530744, 0.524602),
    },
    'configs/knet/knet-s3_r18_fpn_tiny_synthetic-panoptic.py': {
        'init.loss_mask': (0.30999, 0.18349, 0.204213),
        'init.loss_dice': (3.241505, 2.631816, 2.450483),
        'init.loss_rank': (0.105044, 0.092176, 0.1077),
        'init.loss_seg': (1.124444, 1.12372, 1.123545),
        's0.loss_cls': (2.10278, 1.88252, 1.847375),
        's0.loss_mask': (0.97224, 0.925771, 0.714997),
        's0.loss_dice': (3.571472, 3.316692, 3.132309),
        's0.loss_rank': (0.484025, 0.598912, 0.332674),
        's1.loss_cls': (2.826575, 2.834763, 2.648628),
        's1.loss_mask': (4.175808, 0.778257, 0.519163),
        's1.loss_dice': (3.002307, 3.66738, 3.229045),
        's1.loss_rank': (0.41526, 0.392344, 0.2335),
        's2.loss_cls': (2.298753, 2.065001, 2.220497),
        's2.loss_mask': (3.089979, 1.048212, 0.599001),
        's2.loss_dice': (2.967592, 3.244898, 2.948103),
        's2.loss_rank': (0.433777, 0.546567, 0.258051),
    },
    'configs/knet/knet-s3_r18_fpn_tiny_synthetic.py': {
        'init.loss_mask': (0.287783, 0.344323, 0.281709),
        'init.loss_dice': (3.140701, 3.208225, 2.584333),
        'init.loss_seg': (1.120294, 1.116097, 1.113819),
        's0.loss_cls': (1.838002, 2.028704, 1.920791),
        's0.loss_mask': (0.311164, 0.45197, 0.298091),
        's0.loss_dice': (3.511294, 3.91022, 3.888016),
        's1.loss_cls': (2.402911, 2.190897, 2.019401),
        's1.loss_mask': (1.327811, 1.255488, 0.256785),
        's1.loss_dice': (3.659124, 3.773934, 3.944855),
        's2.loss_cls': (3.04245, 2.649128, 2.766808),
        's2.loss_mask': (4.318669, 0.235655, 0.235304),
        's2.loss_dice': (3.712061, 3.861533, 3.810066),
    },
}

# {config: (number of state dict entries, sha1 prefix of the sorted (key, shape) pairs)},
# recorded at the same commit
STATE_DICTS = {
    'configs/blendmask/blendmask_r18_fpn_tiny_synthetic-panoptic.py': (245, '692dafe5c777'),
    'configs/dr1mask/dr1mask_r18_fpn_tiny_synthetic-panoptic.py': (229, 'bb96eebff995'),
    'configs/dr1mask/dr1mask_r18_fpn_tiny_synthetic.py': (232, 'a2e0b4da1a75'),
    'configs/knet/knet-s3_r18_fpn_tiny_synthetic-panoptic.py': (304, '4c306185a35d'),
    'configs/knet/knet-s3_r18_fpn_tiny_synthetic.py': (304, '0915d809bbea'),
}


def train_losses(config: str, data_root: str) -> dict:
    """{loss name: (value at each of ``STEPS`` training steps)} of ``config`` from seed 0."""
    cfg = retarget_data_root(Config.fromfile(osp.join(REPO_ROOT, config)), data_root)
    set_random_seed(0, deterministic=True)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    batch = pseudo_collate([dataset[0], dataset[1]])
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    history = {}
    for _ in range(STEPS):
        data = model.data_preprocessor(batch, training=True)
        losses = model(**data, mode='loss')
        total, _ = model.parse_losses(losses)
        optim_wrapper.update_params(total)
        for key, value in losses.items():
            history.setdefault(key, []).append(round(value.item(), 6))
    return {key: tuple(values) for key, values in history.items()}


@pytest.mark.parametrize('config', sorted(REFERENCE))
def test_tiny_config_losses_unchanged(config, synthetic_root):
    history = train_losses(config, synthetic_root)
    if os.environ.get('RECORD'):
        print(f'\n    {config!r}: {history!r},')
        return
    expected = REFERENCE[config]
    assert history.keys() == expected.keys(), config
    for key, want in expected.items():
        assert len(history[key]) == len(want), f'{config} {key}'
        # float32 kernels differ a little between CPUs, and the optimizer steps amplify it:
        # with the code of the record, a Xeon with AVX512-FP16 gave K-Net (AdamW, Hungarian
        # matching) the losses of steps 1-2 within 4e-6 and of step 3 up to 5.7e-3 apart.
        # A change in what is computed (or in the order parts are built and initialised)
        # shows in step 1, of the optimizer in step 2: those are held to 1e-4
        for step, (got, recorded) in enumerate(zip(history[key], want)):
            rel = 1e-4 if step < 2 else 1e-2
            assert got == pytest.approx(recorded, rel=rel, abs=1e-5), \
                f'{config} {key} step {step + 1}'


@pytest.mark.parametrize('config', sorted(STATE_DICTS))
def test_state_dict_keys_and_shapes_unchanged(config):
    model = MODELS.build(Config.fromfile(osp.join(REPO_ROOT, config)).model)
    items = sorted((key, tuple(value.shape)) for key, value in model.state_dict().items())
    digest = hashlib.sha1(repr(items).encode()).hexdigest()[:12]
    assert (len(items), digest) == STATE_DICTS[config]
