# Panoptic K-Net-s3, R-50-FPN (official configs/det/_base_/models/
# knet_s3_r50_fpn_panoptic.py): the instance model plus one kernel per stuff class
# (the stuff rows of the semantic conv) and the rank loss (weight 0.1) in every head.
_base_ = './knet_s3_r50_fpn.py'
num_thing_classes = 80
num_stuff_classes = 53
# the instance model's mask losses plus the rank loss, in the initial and update heads
kernel_mask_loss = dict(
    loss_rank=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.1))
model = dict(
    data_preprocessor=dict(pad_seg=True, seg_pad_value=255),
    kernel_head=dict(num_stuff_classes=num_stuff_classes, loss_kernel_mask=kernel_mask_loss),
    iter_head=dict(
        num_stuff_classes=num_stuff_classes,
        update_head=dict(num_classes=num_thing_classes + num_stuff_classes,
                         loss_kernel_mask=kernel_mask_loss)))
