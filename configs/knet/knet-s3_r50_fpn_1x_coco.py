# K-Net-s3, R-50-FPN, COCO instance segmentation, 1x (official
# configs/det/knet/knet_s3_r50_fpn_1x_coco.py): single-scale training at 1333x800,
# batch 16 (8 GPUs x 2 images), 12 epochs of AdamW.
_base_ = [
    '../_base_/models/knet_s3_r50_fpn.py',
    '../_base_/datasets/coco_instance_ms.py',
    '../_base_/schedules/schedule_knet_1x.py',
]
# CheckedCocoDataset builds LoadAnnotations as CheckedLoadAnnotations: RLE objects are
# trained on as bitmaps, not ignored (see ../_base_/datasets/coco_instance_ms.py).
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True, poly2mask=False),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(pipeline=train_pipeline))
