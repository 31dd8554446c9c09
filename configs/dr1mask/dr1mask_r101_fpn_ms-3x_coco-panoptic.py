# Panoptic DR1Mask, R-101, 3x (Table 9).
_base_ = './dr1mask_r50_fpn_ms-3x_coco-panoptic.py'
model = dict(
    backbone=dict(depth=101,
                  init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://detectron2/resnet101_caffe')))
