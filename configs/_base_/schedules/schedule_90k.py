# BlendMask's 1x schedule used by DR1Mask (Sec. 4.1): 90k iterations at batch 16, lr 0.01,
# linear warm-up over 1k iterations, lr / 10 at 60k and 80k. Includes the runtime defaults.
_base_ = '../default_runtime.py'
max_iters = 90000
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=10000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=1000),
    dict(type='MultiStepLR', begin=0, end=max_iters, by_epoch=False,
         milestones=[60000, 80000], gamma=0.1)
]
optim_wrapper = dict(
    type='OptimWrapper',
    # MMEngine's constructor, naming an unknown optimizer type instead of a TypeError
    constructor='CheckedOptimWrapperConstructor',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001),
    # no weight decay on GN/BN weights and biases (Detectron2's WEIGHT_DECAY_NORM: 0.0)
    paramwise_cfg=dict(norm_decay_mult=0.0))
auto_scale_lr = dict(enable=False, base_batch_size=16)
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=10000, max_keep_ckpts=3))
log_processor = dict(by_epoch=False)
