# K-Net-s3, R-50-FPN, COCO instance segmentation, multi-scale 3x (official
# configs/det/knet/knet_s3_r50_fpn_ms-3x_coco.py): short side drawn in [640, 800]
# (long side <= 1333), batch 16 (8 GPUs x 2 images), 36 epochs of AdamW.
_base_ = [
    '../_base_/models/knet_s3_r50_fpn.py',
    '../_base_/datasets/coco_instance_ms.py',
    '../_base_/schedules/schedule_knet_3x.py',
]
# CheckedCocoDataset builds LoadAnnotations as CheckedLoadAnnotations: RLE objects are
# trained on as bitmaps, not ignored (see ../_base_/datasets/coco_instance_ms.py).
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True, poly2mask=False),
    dict(type='RandomResize', scale=[(1333, 640), (1333, 800)], keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(pipeline=train_pipeline))
