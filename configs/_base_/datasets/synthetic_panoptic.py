# Synthetic shapes, COCO panoptic format (the same images as synthetic_instance.py).
# Generate it with
#   python tools/misc/generate_synthetic_dataset.py data/synthetic
# Checked*Dataset: our subclasses that validate the json and name the bad file, field or
# id (mmdet_dr1mask/support). The pipelines name MMDetection's loaders, which MMDetection's
# tools (analyze_results.py, DetInferencer) and tools/analysis_tools/benchmark.py look
# for; the Checked datasets build them as our checked subclasses (CheckedLoad*).
# The evaluators are our Checked* metrics, which give numbers or a named error on edge
# cases (mmdet_dr1mask/evaluation: no detection at all, foreign image ids).
dataset_type = 'CheckedCocoPanopticDataset'
data_root = 'data/synthetic/'
metainfo = dict(
    classes=('disk', 'box', 'triangle', 'sky', 'grass', 'water', 'wall'),
    thing_classes=('disk', 'box', 'triangle'),
    stuff_classes=('sky', 'grass', 'water', 'wall'),
    palette=[(220, 20, 60), (0, 0, 230), (250, 170, 30), (70, 130, 180), (60, 160, 60),
             (40, 80, 200), (150, 100, 80)])
backend_args = None
img_scale = (256, 192)  # (w, h): the generator's default image size

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadPanopticAnnotations', with_bbox=True, with_mask=True, with_seg=True,
         backend_args=backend_args),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadPanopticAnnotations', backend_args=backend_args),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/panoptic_train.json',
        data_prefix=dict(img='train/', seg='annotations/panoptic_train/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=4),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/panoptic_val.json',
        data_prefix=dict(img='val/', seg='annotations/panoptic_val/'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader

# PQ, and box/mask AP of the things (instances_*.json hold the same objects)
val_evaluator = [
    dict(type='CheckedCocoPanopticMetric',
         ann_file=data_root + 'annotations/panoptic_val.json',
         seg_prefix=data_root + 'annotations/panoptic_val/',
         backend_args=backend_args),
    dict(type='CheckedCocoMetric',
         ann_file=data_root + 'annotations/instances_val.json',
         metric=['bbox', 'segm'],
         backend_args=backend_args),
]
test_evaluator = val_evaluator
