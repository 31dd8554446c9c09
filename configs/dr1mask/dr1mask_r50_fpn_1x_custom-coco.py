# DR1Mask R-50-FPN, 1x schedule, on your own COCO-format instance-segmentation dataset (not a
# paper table). Copy this file, or edit the block below: it is the only place to change.
#   data_root: the folder holding your images and annotation files (trailing '/').
#   metainfo:  your class names, spelt exactly as the categories' "name" in the json and in
#              the json's order (CocoDataset matches them by name and numbers the labels in
#              json order; categories left out are dropped). num_classes follows below.
#   *_ann_file, *_img_prefix: relative to data_root.
# Annotations: a COCO instances json with polygon or RLE masks (iscrowd=1 regions are
# ignored). The training pipeline keeps polygons (LoadAnnotations poly2mask=False, built
# by CheckedCocoDataset as CheckedLoadAnnotations) and decodes the masks of an image
# holding an iscrowd=0 RLE object into bitmaps.
#
# The same from the command line: --cfg-options replaces final keys after this file has been
# evaluated, so nothing is derived there; give every key (this example is checked by
# tests/test_configs.py):
#   python tools/train.py configs/dr1mask/dr1mask_r50_fpn_1x_custom-coco.py --cfg-options \
#     train_dataloader.dataset.data_root=data/pets/ \
#     val_dataloader.dataset.data_root=data/pets/ \
#     test_dataloader.dataset.data_root=data/pets/ \
#     "train_dataloader.dataset.metainfo.classes=(cat,dog)" \
#     "val_dataloader.dataset.metainfo.classes=(cat,dog)" \
#     "test_dataloader.dataset.metainfo.classes=(cat,dog)" \
#     model.bbox_head.num_classes=2 model.semantic_head.num_classes=2 \
#     val_evaluator.ann_file=data/pets/annotations/instances_val.json \
#     test_evaluator.ann_file=data/pets/annotations/instances_val.json
# (one class: "...classes=(cat,)"). Class names with spaces ('potted plant', 'traffic
# light') cannot be given this way: MMEngine's --cfg-options removes every space from a
# value, quoted or not ('pottedplant'), and CheckedCocoDataset then stops because the json
# has no such category. Write such names in the edit block below (or in a copy of this
# file), where they keep their spaces. The schedule is COCO's (90k iterations at batch 16):
# shorten train_cfg.max_iters and param_scheduler for a small dataset, see
# dr1mask_r50_fpn_coco128-seg.py.
_base_ = './dr1mask_r50_fpn_1x_coco.py'

# ---------------------------------------------------------------- edit here
data_root = 'data/my_coco/'
# class names with spaces ('potted plant') keep them here, not through --cfg-options
metainfo = dict(classes=('class_a', 'class_b'))
train_ann_file = 'annotations/instances_train.json'
train_img_prefix = 'train/'
val_ann_file = 'annotations/instances_val.json'
val_img_prefix = 'val/'
# --------------------------------------------------------------------------

num_classes = len(metainfo['classes'])
model = dict(
    bbox_head=dict(num_classes=num_classes),
    semantic_head=dict(num_classes=num_classes))

train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file=train_ann_file,
        data_prefix=dict(img=train_img_prefix)))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file=val_ann_file,
        data_prefix=dict(img=val_img_prefix)))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + val_ann_file)
test_evaluator = val_evaluator
