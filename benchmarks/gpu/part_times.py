"""Where each model's time goes on a GPU: wall time of each part, synchronised.

``benchmark.py --profile`` attributes CUDA kernel time to the parts that launched it,
which leaves out the host's dispatch work; at batch 1 on a large GPU that work is most of
the time. Here each part's call (the ``forward``/``predict`` methods of the detector's
direct sub-modules, as ``--profile`` wraps them) is timed between two
``torch.cuda.synchronize()`` calls, so a part's time is its host work plus the GPU work it
started; nested calls are included in their caller (``bbox_head.forward`` inside
``bbox_head.predict_with_embeddings``). The synchronisations add a little to every part;
compare parts across models, not with ``benchmark.py``'s end-to-end times.

    python benchmarks/gpu/part_times.py CFG1 CFG2 ... --images DIR [--num-images 20] \\
        [--warmup 20] [--cudnn-benchmark] [--device cuda] [--out parts.json]

Random weights and 100 forced detections, as ``benchmark.py --same-detections``; models
interleaved image by image.
"""
import argparse
import json
import os.path as osp
import statistics
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Dict, Iterator, List

import torch

sys.path.insert(0, osp.join(osp.dirname(__file__), '..', '..', 'tools', 'analysis_tools'))
import benchmark  # noqa: E402


def time_parts(model: torch.nn.Module, times: Dict[str, List[float]]) -> None:
    """Time every call of the model's parts (``benchmark.wrap_parts``) into ``times``."""
    sync = torch.cuda.synchronize if next(model.parameters()).is_cuda else (lambda: None)

    @contextmanager
    def timer(label: str) -> Iterator[None]:
        sync()
        start = time.perf_counter()
        yield
        sync()
        times[label].append((time.perf_counter() - start) * 1000)

    benchmark.wrap_parts(model, timer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--images', required=True)
    parser.add_argument('--num-images', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=20)
    parser.add_argument('--cudnn-benchmark', action='store_true',
                        help='let cuDNN time its algorithms for each new input size')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--out')
    args = parser.parse_args()
    torch.backends.cudnn.benchmark = args.cudnn_benchmark
    benchmark.register_all_modules()
    bench_args = benchmark.parse_args([args.configs[0], '--images', args.images,
                                       '--same-detections', '--device', args.device])
    images = benchmark.cycle_images(args.images, args.warmup + args.num_images)
    subjects = [benchmark.Subject(c, None, bench_args, images) for c in args.configs]
    parts = [defaultdict(list) for _ in subjects]
    for index in range(len(images)):
        if index == args.warmup:  # time the parts from here on
            for subject, times in zip(subjects, parts):
                time_parts(subject.model, times)
        shift = index % len(subjects)
        for subject in subjects[shift:] + subjects[:shift]:
            subject.run(index, timed=index >= args.warmup)
    report = dict(device=torch.cuda.get_device_name() if args.device.startswith('cuda')
                  else 'cpu', torch=torch.__version__,
                  cudnn_benchmark=args.cudnn_benchmark, images=args.num_images,
                  warmup=args.warmup, command='python ' + ' '.join(sys.argv), models=[])
    for subject, times in zip(subjects, parts):
        row = dict(model=subject.name, median_ms=statistics.median(subject.times_ms),
                   parts={k: statistics.median(v) for k, v in times.items()})
        report['models'].append(row)
        print(f"{row['model']}: end to end {row['median_ms']:.1f} ms (synchronised parts)")
        for k, v in row['parts'].items():
            print(f'  {k:45s} {v:7.2f}')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(report, f, indent=1)


if __name__ == '__main__':
    main()
