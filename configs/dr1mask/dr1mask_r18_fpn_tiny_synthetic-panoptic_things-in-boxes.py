# Not from the paper: the tiny panoptic DR1Mask with each thing channel confined to its
# box in training (GT box, in the loss) and at inference (detected box), for the synthetic
# panoptic benchmark (docs/benchmarks.md, section 5).
_base_ = './dr1mask_r18_fpn_tiny_synthetic-panoptic.py'
model = dict(panoptic_head=dict(things_in_boxes=True))
