# Not from the paper: the 3x panoptic model with each thing channel of the panoptic layer
# confined to its detected box at inference (`things_in_boxes`). Training is unchanged, so
# a checkpoint of ./dr1mask_r50_fpn_ms-3x_coco-panoptic.py can be tested with this config.
# On the synthetic shapes it raised PQ_th by 22.7 points (docs/benchmarks.md, section 5).
_base_ = './dr1mask_r50_fpn_ms-3x_coco-panoptic.py'
model = dict(panoptic_head=dict(things_in_boxes=True))
