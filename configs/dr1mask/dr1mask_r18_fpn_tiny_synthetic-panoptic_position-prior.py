# Not from the paper: the tiny panoptic DR1Mask with position-aware thing channels (each
# thing logit falls with the squared distance to its box centre, one learned weight; GT
# box in the loss, detected box at inference), for the synthetic panoptic benchmark
# (docs/benchmarks.md, section 5).
_base_ = './dr1mask_r18_fpn_tiny_synthetic-panoptic.py'
model = dict(panoptic_head=dict(position_prior=True))
