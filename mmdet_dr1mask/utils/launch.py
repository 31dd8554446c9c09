"""Run MMDetection-style distributed configs on machines without CUDA."""
import torch
import torch.distributed as dist
from mmengine.config import Config


def adapt_distributed_to_cpu(cfg: Config) -> Config:
    """Make a ``torchrun`` launch work on CPU-only machines (e.g. 2 processes on a laptop).

    MMEngine's pytorch launcher calls ``torch.cuda.set_device``, configs default
    to the NCCL backend, and MMEngine wraps the model in DDP with
    ``device_ids=[LOCAL_RANK]``: all need CUDA. Without CUDA this starts the
    process group itself with gloo (MMEngine then skips its own start), and
    passes ``device_ids=None`` to DDP (a CPU module). Nothing changes when CUDA is
    available or the launcher is ``'none'``.
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
    return cfg
