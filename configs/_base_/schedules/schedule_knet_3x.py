# K-Net's ms-3x schedule (official configs/det/common/mstrain_3x_coco_*.py: 12 epochs of
# a 3x repeated dataset, lr / 10 after 9 and 11): 36 epochs, lr / 10 after 27 and 33.
_base_ = './schedule_knet_1x.py'
max_epochs = 36
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=1000),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[27, 33],
         gamma=0.1)
]
