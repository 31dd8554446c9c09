"""adapt_distributed_to_cpu: torchrun configs on CPU-only machines."""
import pytest
import torch
from mmengine.config import Config

from mmdet_dr1mask.utils import adapt_distributed_to_cpu


def test_non_distributed_config_is_unchanged():
    cfg = Config(dict(launcher='none', env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    assert adapt_distributed_to_cpu(cfg).env_cfg.dist_cfg.backend == 'nccl'
    assert 'model_wrapper_cfg' not in cfg


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU-only path')
def test_slurm_without_cuda_is_a_clear_error():
    with pytest.raises(RuntimeError, match='use torchrun'):
        adapt_distributed_to_cpu(Config(dict(launcher='slurm')))
