"""``torchvision://`` ImageNet weights without the torchvision package.

The K-Net configs name ``torchvision://resnet50`` as the official K-Net configs
do. MMEngine resolves that name by importing torchvision, which the project's
environment does not install (PyPI's torchvision does not import beside the CPU
torch build it uses), so ``init_weights()`` would stop with
``ModuleNotFoundError``. The name only stands for a URL that MMEngine ships in
``mmengine/hub/torchvision_0.12.json`` (``resnet50`` →
``.../resnet50-0676ba61.pth``, the weights MMEngine picks with torchvision
installed too), so without torchvision the same URL is loaded through
MMEngine's HTTP loader, which takes the file from ``$TORCH_HOME/hub/checkpoints``
when it is there (offline use) and downloads it otherwise.
"""
import os.path as osp
from typing import Optional

import mmengine
from mmengine.runner.checkpoint import CheckpointLoader, load_from_http, load_from_torchvision

TORCHVISION_URLS = osp.join(mmengine.__path__[0], 'hub', 'torchvision_0.12.json')


def load_torchvision_name(filename: str, map_location: Optional[str] = None) -> dict:
    """MMEngine's ``torchvision://`` loader, or its URL table when torchvision is absent."""
    try:
        import torchvision  # noqa: F401  (MMEngine's own loader needs it)
    except ImportError:
        return load_from_http(torchvision_url(filename), map_location=map_location)
    return load_from_torchvision(filename, map_location=map_location)


def torchvision_url(filename: str) -> str:
    """The URL MMEngine's table gives a ``torchvision://NAME``; a clear error otherwise."""
    name = filename[len('torchvision://'):]
    urls = mmengine.load(TORCHVISION_URLS)
    if name not in urls:
        raise KeyError(f'{filename}: not in {TORCHVISION_URLS}, and torchvision, which knows '
                       'newer names, is not installed')
    return urls[name]


CheckpointLoader.register_scheme('torchvision://', load_torchvision_name, force=True)
