"""Deterministic synthetic COCO instance + panoptic dataset ("synthetic shapes").

Every image shows textured *thing* shapes (disks, boxes, triangles) of varied
sizes that overlap each other and cross the image border, laid over a few
textured *stuff* regions. One call writes, for the same images:

* ``<out>/<split>/<id>.jpg`` the pictures,
* ``<out>/annotations/instances_<split>.json`` COCO instances (visible masks as
  polygons, crowd regions as RLE, as COCO does),
* ``<out>/annotations/panoptic_<split>.json`` and
  ``<out>/annotations/panoptic_<split>/<id>.png`` COCO panoptic (segment id
  encoded as ``R + 256 G + 256² B``, 0 = void).

The panoptic PNG is the ground truth by construction: every pixel belongs to
exactly one segment (or void). Instance polygons are traced from the same
visible masks; where a visible mask cannot be described by polygons without
losing more than ``1 - POLYGON_MIN_IOU`` of it (holes, slivers), the instance
is written as RLE instead, so both files always describe the same objects.

Each image is drawn from its own random generator seeded with
``(seed, split, index)``: image *k* does not change when ``num_images`` does.
"""
import json
import os
import os.path as osp
import zlib
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import pycocotools.mask as mask_utils
from tqdm import tqdm

# Category ids are not contiguous on purpose (COCO's are not either), so the
# label <-> category id mapping of the loaders is exercised. Things come first:
# MMDetection's panoptic labels are things [0, T) then stuff [T, T + S).
THING_CATEGORIES: Tuple[Tuple[int, str], ...] = ((1, 'disk'), (2, 'box'), (4, 'triangle'))
STUFF_CATEGORIES: Tuple[Tuple[int, str], ...] = ((10, 'sky'), (11, 'grass'), (12, 'water'),
                                                 (14, 'wall'))
THING_CLASSES = tuple(name for _, name in THING_CATEGORIES)
STUFF_CLASSES = tuple(name for _, name in STUFF_CATEGORIES)

# `metainfo` for MMDetection's CocoDataset / CocoPanopticDataset.
SYNTHETIC_INSTANCE_METAINFO = dict(
    classes=THING_CLASSES,
    palette=[(220, 20, 60), (0, 0, 230), (250, 170, 30)])
SYNTHETIC_PANOPTIC_METAINFO = dict(
    classes=THING_CLASSES + STUFF_CLASSES,
    thing_classes=THING_CLASSES,
    stuff_classes=STUFF_CLASSES,
    palette=[(220, 20, 60), (0, 0, 230), (250, 170, 30), (70, 130, 180), (60, 160, 60),
             (40, 80, 200), (150, 100, 80)])

# Minimum IoU between an instance's visible mask and its polygon rasterisation;
# below it the instance is stored as RLE.
POLYGON_MIN_IOU = 0.9
MIN_VISIBLE_AREA = 12  # px; smaller visible remnants are painted back as stuff


@dataclass
class SyntheticConfig:
    """What to generate.

    Args:
        img_size: (height, width) of every image, any size >= 8.
        size_jitter: each side is scaled by a factor drawn from
            ``[1 - size_jitter, 1 + size_jitter]`` per image (0 = fixed size).
        max_things: at most this many thing shapes per image (>= 0).
        min_things: at least this many shapes are attempted per image.
        crowd_prob: chance that an image gets one crowd region (a cluster of
            small same-class shapes annotated as a single ``iscrowd=1`` segment).
        void_prob: chance that an image gets one unlabelled (void) blob.
        varied_instances: every thing instance gets its own colour, pattern scale and
            orientation (its class keeps its shape and pattern type), so two instances
            of a class rarely look alike, as in COCO; ``False`` (the default) paints all
            instances of a class alike, the hardest case for a class-wide filter.
        jpeg_quality: quality of the written JPEGs.
    """

    img_size: Tuple[int, int] = (128, 160)
    size_jitter: float = 0.0
    max_things: int = 6
    min_things: int = 1
    crowd_prob: float = 0.0
    void_prob: float = 0.0
    varied_instances: bool = False
    jpeg_quality: int = 95

    def __post_init__(self) -> None:
        if len(self.img_size) != 2 or min(self.img_size) < 8:
            raise ValueError(f'img_size must be (height, width) >= 8, got {self.img_size}')
        if not 0 <= self.size_jitter < 1:
            raise ValueError(f'size_jitter must be in [0, 1), got {self.size_jitter}')
        if not 0 <= self.min_things <= self.max_things:
            raise ValueError('need 0 <= min_things <= max_things, got '
                             f'{self.min_things}, {self.max_things}')
        for name in ('crowd_prob', 'void_prob'):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f'{name} must be in [0, 1], got {getattr(self, name)}')


@dataclass
class Segment:
    """One panoptic segment of an image: its mask and category."""

    category_id: int
    mask: np.ndarray  # (H, W) bool
    iscrowd: int = 0
    isthing: bool = True
    segment_id: int = 0


@dataclass
class SyntheticImage:
    """A generated picture with its segments (the ground truth)."""

    image: np.ndarray  # (H, W, 3) uint8, BGR
    segments: List[Segment] = field(default_factory=list)
    void_mask: Optional[np.ndarray] = None  # (H, W) bool

    @property
    def panoptic_ids(self) -> np.ndarray:
        """(H, W) int32 segment id map, 0 = void."""
        ids = np.zeros(self.image.shape[:2], np.int32)
        for seg in self.segments:
            ids[seg.mask] = seg.segment_id
        return ids


# ---------------------------------------------------------------- textures
def _smooth_noise(rng: np.random.Generator, h: int, w: int, cell: int) -> np.ndarray:
    """(h, w) float32 noise in [0, 1], smooth over about ``cell`` pixels."""
    gh, gw = max(2, h // cell + 2), max(2, w // cell + 2)
    grid = rng.random((gh, gw), dtype=np.float32)
    return cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC).clip(0, 1)


def _stuff_texture(rng: np.random.Generator, name: str, h: int, w: int) -> np.ndarray:
    """(h, w, 3) float32 BGR texture of a stuff class; each class looks different."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    noise = rng.random((h, w), dtype=np.float32)
    if name == 'sky':  # vertical gradient, faint clouds
        base = np.array([235, 190, 140], np.float32)
        grad = (yy / max(h - 1, 1))[..., None] * np.array([-40, -10, 30], np.float32)
        tex = base + grad + 25 * _smooth_noise(rng, h, w, 24)[..., None]
    elif name == 'grass':  # fine green noise
        tex = np.array([40, 150, 60], np.float32) + 60 * (noise[..., None] - 0.5)
    elif name == 'water':  # horizontal waves
        phase = rng.uniform(0, 2 * np.pi)
        wave = np.sin(yy / 3.0 + 0.4 * np.sin(xx / 9.0) + phase)[..., None]
        tex = np.array([170, 90, 30], np.float32) + 35 * wave
    elif name == 'wall':  # bricks
        row = (yy // 8).astype(np.int32)
        shift = (row % 2) * 8
        mortar = ((yy % 8) < 1.5) | (((xx + shift) % 16) < 1.5)
        tex = np.where(mortar[..., None], np.float32(200), np.array([70, 80, 160], np.float32))
        tex = tex + 15 * (noise[..., None] - 0.5)
    else:
        raise KeyError(f'no texture for stuff class {name!r}')
    return tex


def _thing_texture(rng: np.random.Generator, name: str, h: int, w: int,
                   origin: Tuple[float, float], varied: bool = False) -> np.ndarray:
    """(h, w, 3) float32 BGR texture of a thing class, anchored at ``origin``;
    ``varied``: this instance's own colour, pattern scale and orientation."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy -= origin[0]
    xx -= origin[1]
    if varied:
        return _varied_thing_texture(rng, name, yy, xx)
    jitter = rng.uniform(-25, 25, 3).astype(np.float32)
    if name == 'disk':  # concentric rings, orange
        rings = np.sin(np.hypot(yy, xx) / 2.5)[..., None]
        tex = np.array([40, 140, 240], np.float32) + 45 * rings
    elif name == 'box':  # checkerboard, purple
        checker = (((yy // 5) + (xx // 5)) % 2)[..., None]
        tex = np.array([150, 40, 120], np.float32) + 80 * checker
    elif name == 'triangle':  # diagonal stripes, yellow
        stripes = (((yy + xx) // 4) % 2)[..., None]
        tex = np.array([30, 210, 230], np.float32) - 90 * stripes
    else:
        raise KeyError(f'no texture for thing class {name!r}')
    return tex + jitter


def _varied_thing_texture(rng: np.random.Generator, name: str, yy: np.ndarray,
                          xx: np.ndarray) -> np.ndarray:
    """The class's pattern type (rings, checks, stripes) with a random colour, contrast,
    period and orientation; (h, w, 3) float32 BGR."""
    colour = rng.uniform(40, 215, 3).astype(np.float32)
    contrast = np.float32(rng.uniform(30, 80))
    period = np.float32(rng.uniform(3, 9))
    theta = rng.uniform(0, np.pi)
    u = xx * np.float32(np.cos(theta)) + yy * np.float32(np.sin(theta))
    v = yy * np.float32(np.cos(theta)) - xx * np.float32(np.sin(theta))
    if name == 'disk':
        pattern = np.sin(np.hypot(yy, xx) * np.float32(2 * np.pi) / period)
    elif name == 'box':
        pattern = 2 * (((u // period) + (v // period)) % 2) - 1
    elif name == 'triangle':
        pattern = 2 * ((u // period) % 2) - 1
    else:
        raise KeyError(f'no texture for thing class {name!r}')
    return colour + contrast * pattern[..., None]


# ------------------------------------------------------------------ shapes
def _shape_mask(rng: np.random.Generator, name: str, h: int, w: int, cy: float, cx: float,
                radius: float) -> np.ndarray:
    """(h, w) bool mask of one shape centred at (cy, cx); may leave the image."""
    canvas = np.zeros((h, w), np.uint8)
    shift = 4  # sub-pixel precision for cv2 drawing
    scale = 1 << shift
    if name == 'disk':
        cv2.circle(canvas, (int(round(cx * scale)), int(round(cy * scale))),
                   int(round(radius * scale)), 1, -1, cv2.LINE_8, shift)
        return canvas.astype(bool)
    if name == 'box':
        aspect = rng.uniform(0.5, 2.0)
        half = np.array([radius * np.sqrt(aspect), radius / np.sqrt(aspect)])
        corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float64) * half
    elif name == 'triangle':
        angles = np.array([90.0, 210.0, 330.0]) + rng.uniform(-15, 15, 3)
        corners = radius * np.stack([np.cos(np.radians(angles)), np.sin(np.radians(angles))], 1)
    else:
        raise KeyError(f'no shape for thing class {name!r}')
    theta = rng.uniform(0, np.pi)
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    pts = corners @ rot.T + np.array([cx, cy])
    cv2.fillPoly(canvas, [np.round(pts * scale).astype(np.int32)], 1, cv2.LINE_8, shift)
    return canvas.astype(bool)


def _random_shape_params(rng: np.random.Generator, h: int, w: int,
                         small: bool = False) -> Tuple[float, float, float]:
    """Centre and radius; centres may lie outside the image so shapes are cut."""
    short = min(h, w)
    if small:
        radius = rng.uniform(0.03, 0.06) * short
    else:  # log-uniform: many small and some large objects
        radius = float(np.exp(rng.uniform(np.log(0.06), np.log(0.4)))) * short
    cy = rng.uniform(-0.1 * h, 1.1 * h)
    cx = rng.uniform(-0.1 * w, 1.1 * w)
    return cy, cx, max(radius, 2.0)


# ------------------------------------------------------------------- image
def generate_image(rng: np.random.Generator, cfg: SyntheticConfig) -> SyntheticImage:
    """Draw one image and its segments with ``rng``."""
    base_h, base_w = cfg.img_size
    scale_h, scale_w = 1 + cfg.size_jitter * rng.uniform(-1, 1, 2)
    h, w = max(8, int(round(base_h * scale_h))), max(8, int(round(base_w * scale_w)))

    # Stuff layout: argmax of smooth random fields over 2-4 classes of the image.
    n_stuff = int(rng.integers(2, len(STUFF_CATEGORIES) + 1))
    stuff_idx = rng.choice(len(STUFF_CATEGORIES), n_stuff, replace=False)
    fields = np.stack([_smooth_noise(rng, h, w, max(h, w) // 3 + 1) for _ in stuff_idx])
    stuff_map = stuff_idx[fields.argmax(0)]  # (h, w) index into STUFF_CATEGORIES

    # Things, painted back to front: owner[y, x] = index into `things` or -1.
    owner = np.full((h, w), -1, np.int32)
    things: List[Tuple[int, bool]] = []  # (thing class index, is crowd)
    n_things = int(rng.integers(cfg.min_things, cfg.max_things + 1))
    for _ in range(n_things):
        cls = int(rng.integers(len(THING_CATEGORIES)))
        mask = _shape_mask(rng, THING_CLASSES[cls], h, w,
                           *_random_shape_params(rng, h, w))
        owner[mask] = len(things)
        things.append((cls, False))
    if rng.random() < cfg.crowd_prob:
        cls = int(rng.integers(len(THING_CATEGORIES)))
        cy, cx = rng.uniform(0.2, 0.8) * h, rng.uniform(0.2, 0.8) * w
        crowd = np.zeros((h, w), bool)
        for _ in range(int(rng.integers(4, 9))):
            _, _, radius = _random_shape_params(rng, h, w, small=True)
            dy, dx = rng.normal(0, 0.08, 2) * (h, w)
            crowd |= _shape_mask(rng, THING_CLASSES[cls], h, w, cy + dy, cx + dx, radius)
        owner[crowd] = len(things)
        things.append((cls, True))

    void = np.zeros((h, w), bool)
    if rng.random() < cfg.void_prob:
        cy, cx, radius = _random_shape_params(rng, h, w, small=True)
        cv2.circle(void.view(np.uint8), (int(cx), int(cy)), int(radius * 1.5), 1, -1)

    # Build segments from the final owner map; tiny remnants revert to stuff.
    segments: List[Segment] = []
    for idx, (cls, is_crowd) in enumerate(things):
        visible = (owner == idx) & ~void
        if visible.sum() < MIN_VISIBLE_AREA:
            owner[owner == idx] = -1
            continue
        segments.append(Segment(THING_CATEGORIES[cls][0], visible, int(is_crowd), True))
    for s in np.unique(stuff_map):
        region = (stuff_map == s) & (owner < 0) & ~void
        if region.any():
            segments.append(Segment(STUFF_CATEGORIES[s][0], region, 0, False))

    # Segment ids: distinct, non-zero, encodable in an RGB PNG.
    ids = 1 + rng.choice((1 << 24) - 1, len(segments), replace=False)
    for seg, seg_id in zip(segments, ids):
        seg.segment_id = int(seg_id)

    image = _render(rng, h, w, segments, void, cfg.varied_instances)
    return SyntheticImage(image=image, segments=segments, void_mask=void)


def _render(rng: np.random.Generator, h: int, w: int, segments: Sequence[Segment],
            void: np.ndarray, varied_instances: bool = False) -> np.ndarray:
    """Paint every segment with its class texture (per instance with
    ``varied_instances``); void pixels get grey noise."""
    names = dict(THING_CATEGORIES + STUFF_CATEGORIES)
    canvas = np.zeros((h, w, 3), np.float32)
    for seg in segments:
        name = names[seg.category_id]
        if seg.isthing:
            ys, xs = np.nonzero(seg.mask)
            tex = _thing_texture(rng, name, h, w, (ys.mean(), xs.mean()), varied_instances)
        else:
            tex = _stuff_texture(rng, name, h, w)
        canvas[seg.mask] = tex[seg.mask]
    canvas[void] = 128 + 40 * (rng.random((int(void.sum()), 1), dtype=np.float32) - 0.5)
    canvas += rng.normal(0, 4, canvas.shape).astype(np.float32)  # sensor noise
    return canvas.clip(0, 255).astype(np.uint8)


# ------------------------------------------------------------- annotations
def _bbox(mask: np.ndarray) -> List[float]:
    """COCO [x, y, w, h] of a non-empty bool mask (pixel-edge convention)."""
    ys, xs = np.nonzero(mask)
    x0, y0 = int(xs.min()), int(ys.min())
    return [float(x0), float(y0), float(xs.max() - x0 + 1), float(ys.max() - y0 + 1)]


def _rle(mask: np.ndarray) -> dict:
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle['counts'] = rle['counts'].decode('ascii')
    return rle


def _polygons(mask: np.ndarray) -> Optional[List[List[float]]]:
    """Outer contours of ``mask`` as COCO polygons, or None if they misdescribe it."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_NONE)
    # Polygon vertices at pixel centres (+0.5) so that rasterising gives the mask back.
    polys = [(c.reshape(-1, 2).astype(np.float64) + 0.5).ravel().tolist()
             for c in contours if len(c) >= 3]
    if not polys:
        return None
    h, w = mask.shape
    raster = mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(polys, h, w))) > 0
    iou = (raster & mask).sum() / max((raster | mask).sum(), 1)
    return polys if iou >= POLYGON_MIN_IOU else None


def instance_annotation(seg: Segment, ann_id: int, image_id: int) -> dict:
    """COCO instances record of a thing segment."""
    segm = None if seg.iscrowd else _polygons(seg.mask)
    return dict(id=ann_id, image_id=image_id, category_id=seg.category_id,
                segmentation=segm if segm is not None else _rle(seg.mask),
                area=float(seg.mask.sum()), bbox=_bbox(seg.mask), iscrowd=seg.iscrowd)


def ids_to_rgb(ids: np.ndarray) -> np.ndarray:
    """(H, W) segment ids -> (H, W, 3) uint8 RGB with id = R + 256 G + 256² B."""
    return np.stack([ids % 256, ids // 256 % 256, ids // 65536 % 256], -1).astype(np.uint8)


def _categories(with_stuff: bool) -> List[dict]:
    cats = [dict(id=i, name=n, supercategory='shape', isthing=1) for i, n in THING_CATEGORIES]
    if with_stuff:
        cats += [dict(id=i, name=n, supercategory='background', isthing=0)
                 for i, n in STUFF_CATEGORIES]
    return cats


def _split_seed(seed: int, split: str, index: int) -> List[int]:
    return [seed, zlib.crc32(split.encode()), index]


def generate_split(out_dir: str, split: str = 'train', num_images: int = 16, seed: int = 0,
                   cfg: Optional[SyntheticConfig] = None,
                   progress: bool = False) -> Dict[str, str]:
    """Write one split of the dataset and return the paths of what was written.

    Args:
        out_dir: dataset root.
        split: split name, used in folder and file names.
        num_images: images to write (0 writes valid empty annotation files).
        seed: base seed; image k of a split depends only on (seed, split, k).
        cfg: what to draw, :class:`SyntheticConfig` defaults if None.
        progress: show a progress bar.

    Returns:
        dict with keys ``img_dir``, ``instances_json``, ``panoptic_json`` and
        ``panoptic_dir``.
    """
    if num_images < 0:
        raise ValueError(f'num_images must be >= 0, got {num_images}')
    cfg = cfg or SyntheticConfig()
    paths = dict(img_dir=osp.join(out_dir, split),
                 instances_json=osp.join(out_dir, 'annotations', f'instances_{split}.json'),
                 panoptic_json=osp.join(out_dir, 'annotations', f'panoptic_{split}.json'),
                 panoptic_dir=osp.join(out_dir, 'annotations', f'panoptic_{split}'))
    os.makedirs(paths['img_dir'], exist_ok=True)
    os.makedirs(paths['panoptic_dir'], exist_ok=True)

    images, instances, panoptic = [], [], []
    for index in tqdm(range(num_images), desc=f'synthetic {split}', disable=not progress):
        image_id = index + 1
        sample = generate_image(np.random.default_rng(_split_seed(seed, split, index)), cfg)
        h, w = sample.image.shape[:2]
        stem = f'{image_id:012d}'
        cv2.imwrite(osp.join(paths['img_dir'], stem + '.jpg'), sample.image,
                    [cv2.IMWRITE_JPEG_QUALITY, cfg.jpeg_quality])
        rgb = ids_to_rgb(sample.panoptic_ids)
        cv2.imwrite(osp.join(paths['panoptic_dir'], stem + '.png'), rgb[..., ::-1])
        images.append(dict(id=image_id, file_name=stem + '.jpg', height=h, width=w))
        for seg in sample.segments:
            if seg.isthing:
                instances.append(instance_annotation(seg, len(instances) + 1, image_id))
        panoptic.append(dict(
            image_id=image_id, file_name=stem + '.png',
            segments_info=[dict(id=s.segment_id, category_id=s.category_id,
                                area=int(s.mask.sum()), bbox=_bbox(s.mask), iscrowd=s.iscrowd)
                           for s in sample.segments]))

    info = dict(description='mmdet_dr1mask synthetic shapes', seed=seed, split=split)
    _dump(paths['instances_json'], dict(info=info, images=images, annotations=instances,
                                        categories=_categories(with_stuff=False)))
    _dump(paths['panoptic_json'], dict(info=info, images=images, annotations=panoptic,
                                       categories=_categories(with_stuff=True)))
    return paths


def _dump(path: str, obj: dict) -> None:
    with open(path, 'w') as f:
        json.dump(obj, f)
