# Not from the paper: the 3x panoptic model with each thing channel of the panoptic layer
# confined to its box (`things_in_boxes`): its detected box at inference and, when trained
# with this config, its GT box in the loss, so that training sees what inference does.
# Testing a checkpoint of ./dr1mask_r50_fpn_ms-3x_coco-panoptic.py with this config applies
# the box at inference only. Measured on the synthetic shapes with the tiny model
# (docs/benchmarks.md, section 5).
_base_ = './dr1mask_r50_fpn_ms-3x_coco-panoptic.py'
model = dict(panoptic_head=dict(things_in_boxes=True))
