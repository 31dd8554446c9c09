# K-Net's 1x schedule (official configs/det/_base_/schedules/schedule_1x.py): 12 epochs
# at batch 16, AdamW lr 1e-4 (backbone 0.25x), weight decay 0.05, gradient clipping at
# norm 1, linear warm-up over 1000 iterations from 0.001, lr / 10 after epochs 8 and 11.
_base_ = '../default_runtime.py'
max_epochs = 12
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=1000),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[8, 11],
         gamma=0.1)
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=0.0001, weight_decay=0.05),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.25)}),
    clip_grad=dict(max_norm=1, norm_type=2))
auto_scale_lr = dict(enable=False, base_batch_size=16)
# epoch-based: log metrics by epoch (the runtime default is set for iteration schedules)
default_hooks = dict(logger=dict(log_metric_by_epoch=True))
