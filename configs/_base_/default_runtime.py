# MMDetection's runtime defaults, plus the import that registers this package.
_base_ = 'mmdet::_base_/default_runtime.py'
custom_imports = dict(imports=['mmdet_dr1mask'], allow_failed_imports=False)
default_hooks = dict(
    # Checkpoints and the last_checkpoint pointer written atomically (temporary file,
    # fsync, rename), the outdated checkpoint removed last: a kill at any moment, even
    # during a save, leaves --resume a complete checkpoint.
    checkpoint=dict(type='AtomicCheckpointHook'),
    # Our schedules count iterations: log validation metrics at the iteration they were
    # measured (MMEngine's default logs them at the epoch, always 0 in iteration-based loops).
    logger=dict(log_metric_by_epoch=False),
    # Checkpoints carry the random generators' states: a resumed run continues exactly.
    random_state=dict(type='RandomStateHook'),
    # Checkpoints load with torch.load(weights_only=True) in tools that never import this
    # package (MMDetection's publish_model.py, image_demo.py with a checkpoint alone).
    weights_only_checkpoint=dict(type='WeightsOnlyCheckpointHook'),
    # The heads' num_classes must match the dataset's classes (named error otherwise).
    num_classes_check=dict(type='CheckNumClassesHook'))
# A panoptic map without any segment is drawn as the bare image (MMDetection's visualizer
# fails on it: tools/demo.py, tools/test.py --show-dir).
visualizer = dict(type='CheckedDetLocalVisualizer')
