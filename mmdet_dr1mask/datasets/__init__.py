from .checked_coco import CheckedCocoDataset, CheckedCocoPanopticDataset
from .synthetic import (
                        STUFF_CLASSES,
                        SYNTHETIC_INSTANCE_METAINFO,
                        SYNTHETIC_PANOPTIC_METAINFO,
                        THING_CLASSES,
                        SyntheticConfig,
                        generate_image,
                        generate_split,
)
from .transforms import *  # noqa: F401,F403

__all__ = [
    'CheckedCocoDataset', 'CheckedCocoPanopticDataset', 'STUFF_CLASSES',
    'SYNTHETIC_INSTANCE_METAINFO', 'SYNTHETIC_PANOPTIC_METAINFO', 'THING_CLASSES',
    'SyntheticConfig', 'generate_image', 'generate_split'
]
