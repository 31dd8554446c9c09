# Not from the paper: the 3x panoptic model with position-aware thing channels
# (`position_prior`): each thing logit of the panoptic layer falls with the squared distance
# to its box centre, scaled by one learned weight; the GT box in the loss, the detected box
# at inference. It must be trained with this config (the weight is a parameter). Measured
# on the synthetic shapes with the tiny model (docs/benchmarks.md, section 5).
_base_ = './dr1mask_r50_fpn_ms-3x_coco-panoptic.py'
model = dict(panoptic_head=dict(position_prior=True))
