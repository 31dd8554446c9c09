# Panoptic DR1Mask, R-50-FPN (paper Sec. 3.3): the instance model with D = 64 (Table 6),
# vector embeddings (Table 7) and one more 1x1 layer over the basis F, whose thing weights
# are the instance embeddings. The panoptic layer supervises F, so no auxiliary semantic head.
_base_ = './dr1mask_r50_fpn.py'
model = dict(
    data_preprocessor=dict(pad_seg=True, seg_pad_value=255),
    basis_head=dict(channels=64),  # D, passed to the blender and the panoptic layer
    mask_head=dict(attention=dict(_delete_=True, type='VectorAttention')),
    semantic_head=None,
    panoptic_head=dict(
        type='DR1PanopticHead',
        num_things_classes=80,
        num_stuff_classes=53,
        basis_stride=4,
        score_thr=0.4,
        overlap_thr=0.5,
        drop_duplicates=True,  # a detection lying on higher-scored ones gets no channel
        stuff_area_limit=4096,
        loss_panoptic=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))
