from .synthetic import (
                        STUFF_CLASSES,
                        SYNTHETIC_INSTANCE_METAINFO,
                        SYNTHETIC_PANOPTIC_METAINFO,
                        THING_CLASSES,
                        SyntheticConfig,
                        generate_image,
                        generate_split,
)

__all__ = [
    'STUFF_CLASSES', 'SYNTHETIC_INSTANCE_METAINFO', 'SYNTHETIC_PANOPTIC_METAINFO',
    'THING_CLASSES', 'SyntheticConfig', 'generate_image', 'generate_split'
]
