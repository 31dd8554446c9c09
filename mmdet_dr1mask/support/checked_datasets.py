"""COCO instance and panoptic datasets that validate their annotation json on load.

MMDetection's loaders fail deep in a stack on a missing field (``KeyError:
'bbox'``), and silently drop annotations whose category is not in the json's
categories, or silently shift every label when a class of ``metainfo`` is not
a category of the json. These subclasses check the json once, when the dataset
is built, and raise a ``ValueError`` naming the file, the field and the image
or annotation id. What MMDetection already handles correctly is left to it:
zero-area and out-of-image boxes are dropped, polygons with fewer than 3 points
are dropped by ``LoadAnnotations`` (the instance is ignored when none is left).
RLE masks (which ``CheckedLoadAnnotations`` decodes) need ``counts`` and the
``size`` of their image. A pipeline step naming MMDetection's image or annotation
loader is built as its checked subclass (``checked_loading``), so that configs can name
MMDetection's loaders, which MMDetection's tools look for.
"""
from functools import partial
from typing import Callable, Dict, Iterable, List, Optional, Sequence

from mmcv.transforms import LoadImageFromFile
from mmdet.datasets import CocoDataset, CocoPanopticDataset
from mmdet.datasets.transforms import LoadAnnotations, LoadPanopticAnnotations
from mmdet.registry import DATASETS, TRANSFORMS

from .checked_loading import (
    CheckedLoadAnnotations,
    CheckedLoadImageFromFile,
    CheckedLoadPanopticAnnotations,
)

IMAGE_FIELDS = ('id', 'file_name', 'height', 'width')
CATEGORY_FIELDS = ('id', 'name')
INSTANCE_FIELDS = ('id', 'image_id', 'category_id', 'bbox', 'area')
PANOPTIC_FIELDS = ('image_id', 'file_name', 'segments_info')
SEGMENT_FIELDS = ('id', 'category_id', 'bbox', 'area')


def _require(record: dict, fields: Iterable[str], what: str, ann_file: str) -> None:
    missing = [f for f in fields if f not in record]
    if missing:
        raise ValueError(f'{ann_file}: {what} lacks the required field(s) {missing}')


def _check_bbox(bbox, what: str, ann_file: str) -> None:
    if not (isinstance(bbox, Sequence) and len(bbox) == 4):
        raise ValueError(f'{ann_file}: {what} has bbox {bbox!r}, not [x, y, w, h]')


def _check_rle(rle: dict, image_size: Optional[List[int]], what: str, ann_file: str) -> None:
    # MMDetection ignores an RLE without `counts` or `size` silently, and one of another
    # size than its image decodes to a mask that does not fit the image's other masks.
    if not isinstance(rle.get('counts'), (str, list)) or 'size' not in rle:
        raise ValueError(f'{ann_file}: {what} has an RLE segmentation without "counts" (a '
                         'string or a list) and "size"')
    if image_size is not None and list(rle['size']) != image_size:
        raise ValueError(f'{ann_file}: {what} has an RLE segmentation of size {rle["size"]}, '
                         f'not its image\'s [height, width] {image_size}')


def check_categories(categories: List[dict], classes: Sequence[str], ann_file: str,
                     fields: Sequence[str] = CATEGORY_FIELDS) -> set:
    """Check the json's categories against ``metainfo['classes']``.

    Returns:
        The category ids of the json.
    """
    for cat in categories:
        _require(cat, fields, f'category {cat.get("id", cat)}', ann_file)
    names = {cat['name'] for cat in categories}
    unknown = [c for c in classes if c not in names]
    if unknown:
        # MMDetection would map the remaining classes to labels 0..n-1: every label shifts.
        message = f'{ann_file}: metainfo classes {unknown} are not among the json\'s ' \
            f'categories {sorted(names)}'
        spaced = {name.replace(' ', ''): name for name in names if ' ' in name}
        lost = [f'{c!r} is {spaced[c]!r}' for c in unknown if c in spaced]
        if lost:
            message += (f'. {", ".join(lost)} without its spaces: --cfg-options (MMEngine\'s '
                        'DictAction) removes every space from a value; write class names '
                        'with spaces in the config file (e.g. the edit block of '
                        'configs/dr1mask/dr1mask_r50_fpn_1x_custom-coco.py)')
        raise ValueError(message)
    return {cat['id'] for cat in categories}


def check_instances_json(data: dict, ann_file: str, classes: Sequence[str],
                         with_mask: bool = False) -> None:
    """Validate a COCO instances json (the dict as read from the file); ``with_mask``:
    every annotation needs a ``segmentation``."""
    for key in ('images', 'annotations', 'categories'):
        if key not in data:
            raise ValueError(f'{ann_file}: no "{key}" list')
    cat_ids = check_categories(data['categories'], classes, ann_file)
    for img in data['images']:
        _require(img, IMAGE_FIELDS, f'image {img.get("id", img.get("file_name"))}', ann_file)
    image_sizes = {img['id']: [img['height'], img['width']] for img in data['images']}
    for ann in data['annotations']:
        what = f'annotation {ann.get("id", "?")} (image {ann.get("image_id", "?")})'
        _require(ann, INSTANCE_FIELDS + (('segmentation',) if with_mask else ()), what,
                 ann_file)
        _check_bbox(ann['bbox'], what, ann_file)
        if ann['category_id'] not in cat_ids:
            raise ValueError(f'{ann_file}: {what} has category_id {ann["category_id"]}, not '
                             f'one of the categories {sorted(cat_ids)}')
        seg = ann.get('segmentation')
        if isinstance(seg, list):
            odd = [len(p) for p in seg if len(p) % 2]
            if odd:
                raise ValueError(f'{ann_file}: {what} has a polygon of {odd[0]} coordinates; '
                                 'polygons are flat [x1, y1, x2, y2, ...] lists')
        elif isinstance(seg, dict):
            _check_rle(seg, image_sizes.get(ann['image_id']), what, ann_file)


def check_panoptic_json(data: dict, ann_file: str, classes: Sequence[str]) -> None:
    """Validate a COCO panoptic json (the dict as read from the file)."""
    for key in ('images', 'annotations', 'categories'):
        if key not in data:
            raise ValueError(f'{ann_file}: no "{key}" list')
    cat_ids = check_categories(data['categories'], classes, ann_file,
                               CATEGORY_FIELDS + ('isthing',))
    for img in data['images']:
        _require(img, IMAGE_FIELDS, f'image {img.get("id", img.get("file_name"))}', ann_file)
    for ann in data['annotations']:
        _require(ann, PANOPTIC_FIELDS, f'annotation of image {ann.get("image_id", "?")}',
                 ann_file)
        for seg in ann['segments_info']:
            what = f'segment {seg.get("id", "?")} of image {ann["image_id"]}'
            _require(seg, SEGMENT_FIELDS, what, ann_file)
            _check_bbox(seg['bbox'], what, ann_file)
            if seg['category_id'] not in cat_ids:
                raise ValueError(f'{ann_file}: {what} has category_id {seg["category_id"]}, '
                                 f'not one of the categories {sorted(cat_ids)}')


def with_checked_loaders(pipeline: Sequence, checked: Dict[type, type]) -> list:
    """``pipeline`` with every step whose type is exactly a key of ``checked`` (the class,
    or its registered name) replaced by the checked subclass, with the same arguments.

    Configs name MMDetection's own loaders, because MMDetection's tools find the loaders
    of a pipeline by exact class (``get_loading_pipeline`` in ``analyze_results.py``);
    the checked datasets load with the checked subclasses all the same. Steps given as
    built transforms, and every other type, are kept as they are.
    """
    steps = []
    for step in pipeline:
        if isinstance(step, dict):
            cls = step['type'] if isinstance(step['type'], type) else TRANSFORMS.get(step['type'])
            if cls in checked:
                step = dict(step, type=checked[cls])
        steps.append(step)
    return steps


class _CheckedLoadersMixin:
    """Builds the dataset's pipeline with :func:`with_checked_loaders` and ``CHECKED``."""

    CHECKED: Dict[type, type]

    def __init__(self, *args, pipeline: Sequence = (), **kwargs) -> None:
        super().__init__(*args, pipeline=with_checked_loaders(pipeline, self.CHECKED), **kwargs)


class _CheckedJsonMixin:
    """Runs ``check_json(dataset, ann_file, classes, **check_options())`` on the parsed
    json before pycocotools indexes it (indexing is where a missing field would fail)."""

    check_json: Callable[..., None]

    def check_options(self) -> dict:
        """More keyword arguments of ``check_json``."""
        return {}

    def load_data_list(self) -> List[dict]:
        api, check = self.COCOAPI, partial(type(self).check_json, ann_file=self.ann_file,
                                           classes=self.metainfo['classes'],
                                           **self.check_options())

        class CheckedAPI(api):

            def createIndex(self) -> None:  # noqa: N802  (pycocotools' name)
                check(self.dataset)
                super().createIndex()

        self.COCOAPI = CheckedAPI
        try:
            return super().load_data_list()
        finally:
            del self.COCOAPI  # back to the class attribute


@DATASETS.register_module()
class CheckedCocoDataset(_CheckedLoadersMixin, _CheckedJsonMixin, CocoDataset):
    """:class:`mmdet.datasets.CocoDataset` that validates the json first, and loads with
    :class:`CheckedLoadImageFromFile` and :class:`CheckedLoadAnnotations` where the
    pipeline names MMDetection's ``LoadImageFromFile`` and ``LoadAnnotations``.

    Raises:
        ValueError: naming ``ann_file``, the field and the image or annotation
            id, when a required field is missing, a category id is not one of
            the json's categories, a class of ``metainfo`` is not a category,
            a polygon has an odd number of coordinates, or an RLE lacks
            ``counts`` or ``size`` or has another size than its image;
            ``segmentation`` is required when the pipeline loads masks.
    """

    CHECKED = {LoadImageFromFile: CheckedLoadImageFromFile,
               LoadAnnotations: CheckedLoadAnnotations}
    check_json = staticmethod(check_instances_json)

    def check_options(self) -> dict:
        # the pipeline is built before the annotations are loaded
        transforms = getattr(self.pipeline, 'transforms', [])
        return dict(with_mask=any(getattr(t, 'with_mask', False) for t in transforms))


@DATASETS.register_module()
class CheckedCocoPanopticDataset(_CheckedLoadersMixin, _CheckedJsonMixin, CocoPanopticDataset):
    """:class:`mmdet.datasets.CocoPanopticDataset` that validates the json first, and loads
    with :class:`CheckedLoadImageFromFile` and :class:`CheckedLoadPanopticAnnotations`
    where the pipeline names MMDetection's ``LoadImageFromFile`` and
    ``LoadPanopticAnnotations``.

    The json's segment ids against the PNG are checked per image when it is
    loaded, by :class:`~mmdet_dr1mask.support.CheckedLoadPanopticAnnotations`.

    Raises:
        ValueError: naming ``ann_file``, the field and the image or segment id,
            when a required field is missing, a category id is not one of the
            json's categories or a class of ``metainfo`` is not a category.
    """

    CHECKED = {LoadImageFromFile: CheckedLoadImageFromFile,
               LoadPanopticAnnotations: CheckedLoadPanopticAnnotations}
    check_json = staticmethod(check_panoptic_json)
