"""adapt_distributed_to_cpu: torchrun configs on CPU-only machines."""
import pytest
import torch
from mmengine.config import Config

from mmdet_dr1mask.support import adapt_distributed_to_cpu


def test_non_distributed_config_is_unchanged():
    cfg = Config(dict(launcher='none', env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    assert adapt_distributed_to_cpu(cfg).env_cfg.dist_cfg.backend == 'nccl'
    assert 'model_wrapper_cfg' not in cfg


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU-only path')
def test_slurm_without_cuda_is_a_clear_error():
    with pytest.raises(RuntimeError, match='use torchrun'):
        adapt_distributed_to_cpu(Config(dict(launcher='slurm')))


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU-only path')
def test_torchrun_without_cuda_turns_sync_bn_into_bn(monkeypatch):
    """SyncBatchNorm raises on CPU tensors in a process group; gloo runs get plain BN."""
    import mmdet_dr1mask.support.launch as launch
    monkeypatch.setattr(launch.dist, 'is_initialized', lambda: True)  # no real group needed
    cfg = Config(dict(launcher='pytorch', model=dict(
        basis_head=dict(norm_cfg=dict(type='SyncBN', requires_grad=True)),
        heads=[dict(norm_cfg=dict(type='SyncBN')), dict(norm_cfg=dict(type='GN'))])))
    model = adapt_distributed_to_cpu(cfg).model
    assert model.basis_head.norm_cfg == dict(type='BN', requires_grad=True)
    assert [h['norm_cfg']['type'] for h in model.heads] == ['BN', 'GN']
