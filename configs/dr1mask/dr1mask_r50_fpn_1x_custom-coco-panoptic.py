# Panoptic DR1Mask R-50-FPN, 1x schedule, on your own COCO-panoptic dataset (not a paper
# table). Copy this file, or edit the block below: it is the only place to change.
#   data_root:     the folder holding your images and annotation files (trailing '/').
#   thing_classes: the categories with "isthing": 1, stuff_classes those with "isthing": 0,
#                  spelt exactly as the categories' "name" in the panoptic json. Labels
#                  follow the json's order (CocoPanopticDataset matches the names), so the
#                  json lists the thing categories before the stuff ones, as COCO's does.
#                  Every num_classes of the model follows below.
#   *_ann_file, *_img_prefix, *_seg_prefix: relative to data_root; *_seg_prefix is the
#                  folder of the panoptic PNGs.
#   val_instances_ann_file: a COCO instances json of the val images, for box and mask AP
#                  of the things beside PQ; None evaluates PQ only.
# The schedule is COCO's (90k iterations at batch 16): shorten train_cfg.max_iters and
# param_scheduler for a small dataset (tools/train.py --iters N does both).
_base_ = './dr1mask_r50_fpn_1x_coco-panoptic.py'

# ---------------------------------------------------------------- edit here
data_root = 'data/my_coco_panoptic/'
thing_classes = ('thing_a', 'thing_b')
stuff_classes = ('stuff_a', 'stuff_b', 'stuff_c')
train_ann_file = 'annotations/panoptic_train.json'
train_img_prefix = 'train/'
train_seg_prefix = 'annotations/panoptic_train/'
val_ann_file = 'annotations/panoptic_val.json'
val_img_prefix = 'val/'
val_seg_prefix = 'annotations/panoptic_val/'
val_instances_ann_file = 'annotations/instances_val.json'
# --------------------------------------------------------------------------

metainfo = dict(classes=thing_classes + stuff_classes, thing_classes=thing_classes,
                stuff_classes=stuff_classes)
num_things_classes = len(thing_classes)
num_stuff_classes = len(stuff_classes)
model = dict(
    bbox_head=dict(num_classes=num_things_classes),
    panoptic_head=dict(num_things_classes=num_things_classes,
                       num_stuff_classes=num_stuff_classes))

train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file=train_ann_file,
        data_prefix=dict(img=train_img_prefix, seg=train_seg_prefix)))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file=val_ann_file,
        data_prefix=dict(img=val_img_prefix, seg=val_seg_prefix)))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='CocoPanopticMetric',
         ann_file=data_root + val_ann_file,
         seg_prefix=data_root + val_seg_prefix),
] + ([dict(type='CocoMetric',
           ann_file=data_root + val_instances_ann_file,
           metric=['bbox', 'segm'])] if val_instances_ann_file else [])
test_evaluator = val_evaluator
