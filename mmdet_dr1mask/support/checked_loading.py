"""Loading transforms that name the file when an image or a panoptic PNG is bad, and
that keep the RLE objects MMDetection drops when polygons are kept."""
from typing import Optional

import mmcv
import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmdet.datasets.transforms import LoadAnnotations, LoadPanopticAnnotations
from mmdet.registry import TRANSFORMS
from mmengine.fileio import FileClient, get


def jpeg_is_truncated(data: bytes) -> bool:
    """Whether JPEG ``data`` stops inside its entropy-coded scan.

    A complete JPEG ends its last scan (after the last SOS marker ``FFDA``)
    with an EOI marker ``FFD9``; the scan data cannot contain ``FFD9``
    (``FF`` bytes are stuffed), so a missing EOI after the last SOS means the
    file was cut. OpenCV decodes such files with only a warning, filling the
    missing rows with grey.
    """
    if not data.startswith(b'\xff\xd8'):
        return False  # not a JPEG
    return data.rfind(b'\xff\xd9') < data.rfind(b'\xff\xda')


@TRANSFORMS.register_module()
class CheckedLoadImageFromFile(LoadImageFromFile):
    """:class:`mmcv.transforms.LoadImageFromFile` that refuses truncated or undecodable files.

    mmcv returns a grey-filled image for a truncated JPEG and fails with an
    ``AssertionError`` (gone under ``python -O``) for an undecodable file.

    Raises:
        FileNotFoundError: the file does not exist (from the file backend, naming it).
        ValueError: naming the file, when it is a truncated JPEG or not an image.
    """

    def transform(self, results: dict) -> Optional[dict]:
        filename = results['img_path']
        try:
            if self.file_client_args is not None:  # mmcv's deprecated way, still honoured
                img_bytes = FileClient.infer_client(self.file_client_args, filename).get(filename)
            else:
                img_bytes = get(filename, backend_args=self.backend_args)
            if not img_bytes:  # OpenCV's message would be "!buf.empty() in imdecode_"
                raise ValueError(f'{filename}: not a readable image (empty file)')
            if jpeg_is_truncated(img_bytes):
                raise ValueError(f'{filename}: truncated JPEG (no end-of-image marker after '
                                 'the last scan)')
            try:  # cv2 returns None, pillow raises without naming the file
                img = mmcv.imfrombytes(img_bytes, flag=self.color_type,
                                       backend=self.imdecode_backend)
            except Exception as e:
                raise ValueError(f'{filename}: not a readable image ({e})') from e
            if img is None:
                raise ValueError(f'{filename}: not a readable image ({len(img_bytes)} bytes)')
        except Exception:
            if self.ignore_empty:
                return None
            raise
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results


@TRANSFORMS.register_module()
class CheckedLoadPanopticAnnotations(LoadPanopticAnnotations):
    """:class:`mmdet.datasets.transforms.LoadPanopticAnnotations` checking the PNG against
    the json.

    MMDetection takes a json segment absent from the PNG as an empty mask and
    a PNG segment absent from the json as void, silently.

    Raises:
        ValueError: naming the PNG and the segment ids, when the non-void
            segment ids of the PNG differ from those of the image's json
            ``segments_info``.
    """

    def _load_masks_and_semantic_segs(self, results: dict) -> None:
        path = results.get('seg_map_path')
        if path is not None:
            png = mmcv.imfrombytes(get(path, backend_args=self.backend_args), flag='color',
                                   channel_order='rgb')
            if png is None:
                raise ValueError(f'{path}: not a readable PNG')
            in_png = set(np.unique(self.rgb2id(png)).tolist()) - {0}  # 0 = void
            in_json = {s['id'] for s in results['segments_info']}
            if in_png != in_json:
                raise ValueError(
                    f'{path}: segment ids do not match the json\'s segments_info of image '
                    f'{results.get("img_id")}: only in the PNG {sorted(in_png - in_json)}, '
                    f'only in the json {sorted(in_json - in_png)}')
        super()._load_masks_and_semantic_segs(results)


def has_trainable_rle(instances: list) -> bool:
    """Whether an instance not ignored (not ``iscrowd``) has an RLE ``mask``."""
    return any(isinstance(inst.get('mask'), dict) and not inst.get('ignore_flag', 0)
               for inst in instances)


@TRANSFORMS.register_module()
class CheckedLoadAnnotations(LoadAnnotations):
    """:class:`mmdet.datasets.transforms.LoadAnnotations` that keeps RLE objects with
    ``poly2mask=False``.

    With ``poly2mask=False`` MMDetection stores an image's masks as
    ``PolygonMasks``, which cannot hold RLE, and marks every instance whose
    ``segmentation`` is RLE (compressed or uncompressed) as ignored, silently:
    a dataset annotated with RLE trains on fewer objects. Here an image with
    such an object (one not already ignored, i.e. not ``iscrowd``) has all its
    masks decoded into ``BitmapMasks``, polygons rasterised too, exactly as
    ``poly2mask=True`` would; images whose objects are all polygons keep
    ``PolygonMasks``. COCO's RLE masks are all crowd regions, so COCO images
    keep their polygons. In an image decoded to bitmaps the crowd regions get
    their real masks (``poly2mask=True``'s behaviour), where polygon images
    carry empty ones.

    The models of this package read each image's masks on their own through
    the ``BaseInstanceMasks`` interface (``pad``, ``crop_and_resize``,
    ``to_tensor``), so a batch may mix both types. With ``poly2mask=True``
    this is :class:`LoadAnnotations` unchanged.

    Args:
        **kwargs: the arguments of :class:`LoadAnnotations`.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        # MMDetection's own bitmap decoding, used for the images that hold RLE
        self._bitmap_loader = LoadAnnotations(with_bbox=False, with_label=False,
                                              with_mask=True, poly2mask=True)

    def _load_masks(self, results: dict) -> None:
        if self.poly2mask or not has_trainable_rle(results.get('instances', [])):
            super()._load_masks(results)
        else:
            self._bitmap_loader._load_masks(results)

