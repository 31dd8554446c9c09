"""Run MMDetection-style distributed configs on machines without CUDA."""
from typing import Any

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.logging import print_log


def adapt_distributed_to_cpu(cfg: Config) -> Config:
    """Make a ``torchrun`` launch work on CPU-only machines (e.g. 2 processes on a laptop).

    MMEngine's pytorch launcher calls ``torch.cuda.set_device``, configs default
    to the NCCL backend, and MMEngine wraps the model in DDP with
    ``device_ids=[LOCAL_RANK]``: all need CUDA. Without CUDA this starts the
    process group itself with gloo (MMEngine then skips its own start), and
    passes ``device_ids=None`` to DDP (a CPU module). Nothing changes when CUDA is
    available or the launcher is ``'none'``.

    PyTorch's SyncBatchNorm synchronises only CUDA tensors (a CPU process group
    raises in its forward), so the model's ``SyncBN`` layers (the bases use them
    on GPUs, as AdelaiDet) become per-process ``BN`` here; a single process
    needs no change, SyncBatchNorm then is plain BatchNorm.
    """
    launcher = cfg.get('launcher', 'none')
    if launcher == 'none' or torch.cuda.is_available():
        return cfg
    if launcher != 'pytorch':
        raise RuntimeError(f'launcher {launcher!r} needs CUDA here; on a CPU-only machine '
                           "use torchrun (tools/dist_train.sh, launcher 'pytorch')")
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')  # rank and world size from torchrun's env
    wrapper = cfg.get('model_wrapper_cfg') or dict(type='MMDistributedDataParallel')
    wrapper['device_ids'] = None
    wrapper.setdefault('broadcast_buffers', False)
    cfg.model_wrapper_cfg = wrapper
    if _sync_bn_to_bn(cfg.model):
        print_log('SyncBN needs CUDA: the model uses per-process BN on these CPU processes',
                  logger='current')
    return cfg


def _sync_bn_to_bn(node: Any) -> bool:
    """Replace every ``type='SyncBN'`` in a config tree by ``'BN'``; True if any was."""
    found = False
    if isinstance(node, dict):
        if node.get('type') == 'SyncBN':
            node['type'] = 'BN'
            found = True
        for value in node.values():
            found |= _sync_bn_to_bn(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            found |= _sync_bn_to_bn(value)
    return found
