"""Engineering support, not part of any model: checked datasets, loaders and optimizer
constructor (clear errors on bad input), hooks (atomic checkpoints among them), the
checkpoint allow-list and checked checkpoint loading, launch and pretrained-weight helpers,
the synthetic data generator and the shared training recipe.
"""
from .atomic_checkpoint_hook import AtomicCheckpointHook, AtomicLocalBackend, atomic_write
from .check_num_classes_hook import CheckNumClassesHook
from .checked_datasets import CheckedCocoDataset, CheckedCocoPanopticDataset
from .checked_loading import (
                              CheckedLoadAnnotations,
                              CheckedLoadImageFromFile,
                              CheckedLoadPanopticAnnotations,
                              jpeg_is_truncated,
)
from .checked_optimizer import CheckedOptimWrapperConstructor
from .checked_visualizer import CheckedDetLocalVisualizer
from .checkpoint import (
                              WeightsOnlyCheckpointHook,
                              from_plain,
                              load_local_checkpoint,
                              mmengine_checkpoint_globals,
                              register_checked_local_loader,
                              register_checkpoint_safe_globals,
                              to_plain,
)
from .finite_losses import FiniteLossesMixin
from .launch import adapt_distributed_to_cpu
from .pretrained import load_torchvision_name
from .progress_bar_hook import ProgressBarHook
from .random_state_hook import RandomStateHook
from .recipes import (
                              ANNOTATION_LOADERS,
                              IMAGE_EXTS,
                              child_process,
                              inference_pipeline,
                              list_images,
                              load_config,
                              retarget_data_root,
                              run_child,
                              shorten_schedule,
)
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
    'ANNOTATION_LOADERS', 'AtomicCheckpointHook', 'AtomicLocalBackend', 'CheckNumClassesHook',
    'CheckedCocoDataset', 'CheckedCocoPanopticDataset', 'CheckedDetLocalVisualizer',
    'CheckedLoadAnnotations', 'CheckedLoadImageFromFile', 'CheckedLoadPanopticAnnotations',
    'CheckedOptimWrapperConstructor', 'FiniteLossesMixin', 'IMAGE_EXTS', 'ProgressBarHook',
    'RandomStateHook', 'STUFF_CLASSES', 'SYNTHETIC_INSTANCE_METAINFO',
    'SYNTHETIC_PANOPTIC_METAINFO', 'SyntheticConfig', 'THING_CLASSES',
    'WeightsOnlyCheckpointHook', 'adapt_distributed_to_cpu', 'atomic_write', 'child_process',
    'from_plain',
    'generate_image', 'generate_split', 'inference_pipeline', 'jpeg_is_truncated',
    'list_images', 'load_config', 'load_local_checkpoint', 'load_torchvision_name',
    'mmengine_checkpoint_globals', 'register_checked_local_loader',
    'register_checkpoint_safe_globals', 'retarget_data_root', 'run_child', 'shorten_schedule',
    'to_plain'
]
