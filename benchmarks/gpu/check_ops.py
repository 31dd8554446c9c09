"""Checks mmcv's ``nms`` and ``RoIAlign`` against float64 references written here.

Run it once with mmcv's compiled ops (CPU, the development machine) and once with the
torchvision stand-in (``mmcv_ext_torchvision.py``, on the GPU): both agreeing with the same
references shows that the GPU timings ran the computation that mmcv's kernels run.

* RoIAlign: Detectron2's aligned RoIAlign (average of a ``sampling_ratio`` x
  ``sampling_ratio`` grid of bilinear samples per bin, an adaptive grid for 0; samples
  more than one pixel outside the map count as 0), as the blender (56x56, sampling 1,
  stride 4) and Mask R-CNN (14x14, adaptive) use it, on boxes partly outside the image.
* NMS: greedy suppression in descending score order at IoU > threshold.

On CUDA, RoIAlign of an FP16 map is reported too, with no limit (see the comment there).

    python benchmarks/gpu/check_ops.py --device cuda --out ops.json
"""
import argparse
import json
import math

import torch
from torch import Tensor


def reference_roi_align(feats: Tensor, rois: Tensor, size: int, scale: float,
                        sampling_ratio: int) -> Tensor:
    """(K, C, size, size) aligned RoIAlign of (N, C, H, W) ``feats`` over (K, 5) ``rois``."""
    feats, rois = feats.double().cpu(), rois.double().cpu()
    out = feats.new_zeros(len(rois), feats.shape[1], size, size)
    for k, (b, x1, y1, x2, y2) in enumerate(rois.tolist()):
        x0, y0 = x1 * scale - 0.5, y1 * scale - 0.5
        bin_w, bin_h = (x2 - x1) * scale / size, (y2 - y1) * scale / size
        gh = sampling_ratio or math.ceil((y2 - y1) * scale / size)
        gw = sampling_ratio or math.ceil((x2 - x1) * scale / size)
        ys = y0 + (torch.arange(size * gh, dtype=torch.float64) + 0.5) * bin_h / gh
        xs = x0 + (torch.arange(size * gw, dtype=torch.float64) + 0.5) * bin_w / gw
        samples = _bilinear(feats[int(b)], ys, xs)  # (C, size*gh, size*gw)
        out[k] = samples.reshape(-1, size, gh, size, gw).mean((2, 4))
    return out


def _bilinear(feat: Tensor, ys: Tensor, xs: Tensor) -> Tensor:
    """Samples (C, H, W) ``feat`` at the grid ``ys`` x ``xs`` as Detectron2's RoIAlign does."""
    _, h, w = feat.shape

    def corners(v: Tensor, n: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        outside = (v < -1) | (v > n)
        v = v.clamp(min=0)
        low = v.floor().long().clamp(max=n - 1)
        high = (low + 1).clamp(max=n - 1)
        frac = torch.where(low >= n - 1, torch.zeros_like(v), v - low)
        return low, high, frac, outside

    yl, yh, fy, oy = corners(ys, h)
    xl, xh, fx, ox = corners(xs, w)
    fy, fx = fy[:, None], fx[None, :]
    val = (feat[:, yl][:, :, xl] * (1 - fy) * (1 - fx) + feat[:, yl][:, :, xh] * (1 - fy) * fx
           + feat[:, yh][:, :, xl] * fy * (1 - fx) + feat[:, yh][:, :, xh] * fy * fx)
    return val * ~(oy[:, None] | ox[None, :])


def reference_nms(boxes: Tensor, scores: Tensor, iou_threshold: float) -> list[int]:
    """Indices kept by greedy NMS over (N, 4) ``boxes``, in descending score order."""
    boxes = boxes.double().cpu()
    order = scores.double().cpu().argsort(descending=True).tolist()
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep: list[int] = []
    for i in order:
        if keep:
            k = torch.tensor(keep)
            lt = torch.maximum(boxes[k, :2], boxes[i, :2])
            rb = torch.minimum(boxes[k, 2:], boxes[i, 2:])
            inter = (rb - lt).clamp(min=0).prod(1)
            if (inter / (area[k] + area[i] - inter) > iou_threshold).any():
                continue
        keep.append(i)
    return keep


def random_boxes(n: int, w: float, h: float, gen: torch.Generator) -> Tensor:
    """(n, 4) boxes of 2-400 px, some reaching past the (w, h) image."""
    xy = torch.rand(n, 2, generator=gen) * torch.tensor([w, h]) - 20
    wh = 2 + torch.rand(n, 2, generator=gen) * 398
    return torch.cat([xy, xy + wh], 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--out', help='write the results as JSON')
    args = parser.parse_args()

    import mmcv._ext
    from mmcv.ops import RoIAlign, nms

    gen = torch.Generator().manual_seed(0)
    dtypes = [torch.float32] + ([torch.float16] if args.device.startswith('cuda') else [])
    report = dict(ext=getattr(mmcv._ext, '__file__', '?'), device=args.device,
                  torch=torch.__version__, roi_align=[], nms=[])
    ok = True
    # (channels, map stride, output size, sampling ratio): the blender, Mask R-CNN.
    for c, stride, size, sr in [(32, 4, 56, 1), (16, 8, 14, 0)]:
        h, w = 800 // stride, 1216 // stride
        feats = torch.randn(2, c, h, w, generator=gen)
        boxes = random_boxes(64, 1216, 800, gen)
        rois = torch.cat([torch.randint(0, 2, (64, 1), generator=gen).float(), boxes], 1)
        ref = reference_roi_align(feats, rois, size, 1 / stride, sr)
        for dtype in dtypes:
            op = RoIAlign(size, spatial_scale=1 / stride, sampling_ratio=sr, aligned=True)
            out = op(feats.to(args.device, dtype), rois.to(args.device, dtype)).double().cpu()
            err = float((out - ref).abs().max() / ref.abs().max())
            # FP16 rounds the box corners too (0.5 px at 1216): compare with rounded rois.
            if dtype == torch.float16:
                ref16 = reference_roi_align(feats.half(), rois.half(), size, 1 / stride, sr)
                err = float((out - ref16).abs().max() / ref16.abs().max())
            # FP16 is reported, not judged: the kernels (mmcv's and torchvision's alike)
            # compute the sampling positions in FP16 as well, which no FP32 reference bounds.
            limit = 1e-4 if dtype == torch.float32 else None
            ok &= limit is None or err <= limit
            report['roi_align'].append(dict(size=size, sampling_ratio=sr, dtype=str(dtype),
                                            max_rel_err=err, limit=limit))
    for n, thr in [(1000, 0.5), (5000, 0.6)]:
        boxes = random_boxes(n, 1333, 800, gen)
        scores = torch.rand(n, generator=gen)
        ref_keep = reference_nms(boxes, scores, thr)
        _, keep = nms(boxes.to(args.device), scores.to(args.device), thr)
        same = keep.cpu().tolist() == ref_keep
        ok &= same
        report['nms'].append(dict(boxes=n, iou_threshold=thr, kept=len(ref_keep),
                                  same_indices_and_order=same))
    report['all_within_limits'] = bool(ok)
    print(json.dumps(report, indent=1))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(report, f, indent=1)
    raise SystemExit(0 if ok else 1)


if __name__ == '__main__':
    main()
