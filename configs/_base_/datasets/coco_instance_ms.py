# COCO instances with multi-scale training: short side in [640, 800], long side <= 1333
# (paper Sec. 4.1 and 4.3).
# Checked*Dataset: our subclasses that validate the json and name the bad file, field or
# id (mmdet_dr1mask/support). The pipelines name MMDetection's loaders, which MMDetection's
# tools (analyze_results.py, DetInferencer) and tools/analysis_tools/benchmark.py look
# for; the Checked datasets build them as our checked subclasses (CheckedLoad*).
# Masks stay polygons (poly2mask=False); CheckedLoadAnnotations (what CheckedCocoDataset
# builds for LoadAnnotations) decodes the masks of an image with a non-crowd RLE object
# into bitmaps instead of ignoring that object, as MMDetection's LoadAnnotations does
# (COCO's RLE masks are all crowd regions).
# The evaluators are our Checked* metrics, which give numbers or a named error on edge
# cases (mmdet_dr1mask/evaluation: no detection at all, foreign image ids).
dataset_type = 'CheckedCocoDataset'
data_root = 'data/coco/'
backend_args = None

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True, poly2mask=False),
    dict(type='RandomChoiceResize',
         scales=[(1333, 640), (1333, 672), (1333, 704), (1333, 736), (1333, 768),
                 (1333, 800)],
         keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True, poly2mask=False),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(
    batch_size=4,  # 4 GPUs x 4 images = the paper's batch of 16
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/instances_train2017.json',
        data_prefix=dict(img='train2017/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/instances_val2017.json',
        data_prefix=dict(img='val2017/'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='CheckedCocoMetric',
    ann_file=data_root + 'annotations/instances_val2017.json',
    metric=['bbox', 'segm'],
    format_only=False,
    backend_args=backend_args)
test_evaluator = val_evaluator
