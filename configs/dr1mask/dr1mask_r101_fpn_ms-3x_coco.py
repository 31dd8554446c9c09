# Paper Table 8, row "DR1Mask, R-101" (COCO test-dev instance segmentation), 3x schedule.
_base_ = './dr1mask_r50_fpn_ms-3x_coco.py'
model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://detectron2/resnet101_caffe')))
