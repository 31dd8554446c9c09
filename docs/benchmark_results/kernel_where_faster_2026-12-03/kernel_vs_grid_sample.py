"""Time AlignedArgmax.argmax_at_pixels with the compiled kernel and with grid_sample, side
by side, for a range of channels C and border pixels P on two basis sizes (48×64, the tiny
synthetic models; 200×267, a COCO image at the test size): the measurements behind
``use_fused_kernel`` (docs/benchmarks.md §1.3, "Only where the kernel is faster").

Random logits, P random output pixels in raster order; median of 15 calls (5 from 60 k
pixels on), 2 threads, nothing else running.

Run: python kernel_vs_grid_sample.py
"""
import time

import torch

from mmdet_dr1mask.models.seg_heads import aligned_argmax


def median_us(fn, args: tuple, repeats: int) -> float:
    fn(*args)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return sorted(times)[repeats // 2] * 1e6


def main() -> None:
    torch.set_num_threads(2)
    aligned_argmax.use_fused_kernel = lambda *args: True  # the kernel at every size here
    print('basis, C, P: kernel us, grid_sample us, grid_sample / kernel')
    for h, w, out_h, out_w in ((48, 64, 192, 256), (200, 267, 480, 640)):
        kernel = aligned_argmax.AlignedArgmax((h, w), (4 * h, 4 * w), (out_h, out_w), 4, 'cpu')
        plain = aligned_argmax.AlignedArgmax((h, w), (4 * h, 4 * w), (out_h, out_w), 4, 'cpu',
                                             fused=False)
        for channels in (10, 20, 40, 80, 153):
            logits = torch.randn(channels, h, w)
            for pixels in (1000, 3000, 6000, 20000, 60000, 200000):
                if pixels > out_h * out_w:
                    continue
                flat = torch.randperm(out_h * out_w)[:pixels].sort().values
                rows, cols = flat // out_w, flat % out_w
                repeats = 15 if pixels < 60000 else 5
                times = [median_us(r.argmax_at_pixels, (logits, rows, cols), repeats)
                         for r in (kernel, plain)]
                print(f'{h}x{w}, {channels}, {pixels}: {times[0]:.0f}, {times[1]:.0f}, '
                      f'{times[1] / times[0]:.2f}', flush=True)


if __name__ == '__main__':
    main()
