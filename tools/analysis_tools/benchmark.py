"""Inference speed of one or several detectors, on CPU or GPU, side by side.

Each model runs batch 1 in eval mode on the same real images, prepared once by
its own test pipeline (annotation loading removed); the timed part is the data
preprocessor (normalise, pad) plus ``test_step`` (network and post-processing:
NMS, mask pasting, panoptic fusion). With ``--compare`` the models run
interleaved image by image in one process, so that they see the same machine
state, in an order that changes from image to image as a Williams design (``run_orders``:
each model runs right after each other one equally often over a cycle of orders, so that
none mostly inherits the caches of the same other one), and each one's median is reported
with its ratio to the first, both as the ratio of the medians and as the median of the
per-image ratios ("paired": each image runs through the models moments apart, so a drift
of the machine's speed during the run cancels in it). The JSON output keeps every per-image time.

    python tools/analysis_tools/benchmark.py CONFIG [--checkpoint CKPT] \
        --images DIR [--compare CFG2 CFG3 ...] [--compare-checkpoints CKPT2 CKPT3 ...] \
        [--num-images 20] [--warmup 5] \
        [--same-detections] [--seed 0] [--fp16] [--cudnn-benchmark] [--profile N] \
        [--out result.json] \
        [--backends pytorch onnxruntime]

``--backends pytorch onnxruntime`` runs every model twice, interleaved: as PyTorch eager
and as the ONNX graph of the same weights (DR1Mask and BlendMask, exported with their
post-processing by ``mmdet_dr1mask.deploy`` into ``--onnx-dir``) in ONNX Runtime; the
timed part of both is the data preprocessor plus the model (``test_step`` or the graph).
ONNX Runtime's idle threads do not spin-wait there (they would take the CPU from the other
subjects' turns); ``--backends onnxruntime`` with one config runs the graph alone, with
spinning as ONNX Runtime does by default, for comparisons between processes.

Configs may be paths or MMDetection's own, e.g.
``mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py``. Without a checkpoint the
weights are random (pretrained backbones are not downloaded): use
``--same-detections`` (score threshold 0, at most 100 detections per image,
for every model) so that untrained models do comparable post-processing work.
Random weights are drawn from ``--seed`` (default 0), re-seeded before each model is
built: runs repeat, and two configs that differ only in a part built last (e.g. one
without its panoptic layer) share every weight before it, so they see the same
detections.

On CUDA, a model's peak memory ("peak CUDA MiB") is its weights (parameters and
buffers) plus the most that one image's preprocessing and ``test_step`` allocated above
what was allocated before it (``torch.cuda.max_memory_allocated``): in an interleaved run
every model's weights stay on the GPU, and no model is charged with the others'.

``--profile N`` then runs N more images per model under ``torch.profiler`` and
reports, per image, the time inside each part of the detector (the ``forward``,
``predict`` and ``loss`` calls of its direct sub-modules, and DR1FCOSHead's
``predict_with_embeddings`` and ``loss_and_positives``, which DR1Mask and BlendMask
call; nested calls are included in their caller) and the operators with the most
self time.
"""
import argparse
import datetime
import json
import os
import os.path as osp
import platform
import resource
import statistics
import sys
import time
from typing import Any, Callable, ContextManager, Dict, List, Optional

import torch
from mmdet.utils import register_all_modules
from mmengine.dataset import pseudo_collate
from mmengine.registry import MODELS
from mmengine.runner import load_checkpoint
from torch import nn

from mmdet_dr1mask.support import inference_pipeline, list_images, load_config

SCORE_KEYS = ('score_thr', 'instance_score_thr')  # detection and panoptic thresholds
PROFILED_METHODS = ('forward', 'predict', 'loss', 'predict_with_embeddings', 'loss_and_positives')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config of the reference model')
    parser.add_argument('--checkpoint', help='weights of the reference model')
    parser.add_argument('--compare', nargs='+', default=[], metavar='CFG',
                        help='more configs, run interleaved with the first')
    parser.add_argument('--compare-checkpoints', nargs='+', default=[], metavar='CKPT',
                        help='weights of the --compare models, in the same order '
                        '(default: random weights)')
    parser.add_argument('--images', required=True, help='folder of images')
    parser.add_argument('--num-images', type=int, default=20, help='timed images per model')
    parser.add_argument('--warmup', type=int, default=5, help='untimed images first')
    parser.add_argument('--same-detections', action='store_true',
                        help='score threshold 0 and at most 100 detections for every model')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the random weights, set again before each model')
    parser.add_argument('--resize', nargs=2, type=int, metavar=('W', 'H'),
                        help="override every test pipeline's Resize scale")
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--fp16', action='store_true', help='autocast to FP16 (CUDA)')
    parser.add_argument('--cudnn-benchmark', action='store_true',
                        help="let cuDNN time its algorithms for each new input size (CUDA; "
                        "MMDetection's env_cfg.cudnn_benchmark, off in its test configs)")
    parser.add_argument('--profile', type=int, default=0, metavar='N',
                        help='after timing, profile N images per model (parts and operators)')
    parser.add_argument('--backends', nargs='+', default=['pytorch'],
                        choices=['pytorch', 'onnxruntime'],
                        help='run each model with these backends (onnxruntime: DR1Mask and '
                        'BlendMask exported to ONNX with their post-processing)')
    parser.add_argument('--onnx-dir', default='work_dirs/onnx',
                        help='where --backends onnxruntime writes the exported graphs')
    parser.add_argument('--out', help='write the results as JSON')
    parser.add_argument('--markdown', help='write the results as a Markdown section')
    args = parser.parse_args(argv)
    if args.num_images < 1 or args.warmup < 0 or args.profile < 0:
        parser.error('--num-images must be >= 1, --warmup and --profile >= 0')
    if args.compare_checkpoints and len(args.compare_checkpoints) != len(args.compare):
        parser.error(f'--compare-checkpoints: {len(args.compare_checkpoints)} given for '
                     f'{len(args.compare)} --compare configs')
    if args.fp16 and args.device == 'cpu':
        parser.error('--fp16 needs a CUDA device')
    if args.fp16 and 'onnxruntime' in args.backends:
        parser.error('--fp16 is for the PyTorch backend only')
    if args.cudnn_benchmark and args.device == 'cpu':
        parser.error('--cudnn-benchmark needs a CUDA device')
    return args


def run_orders(n: int) -> List[List[int]]:
    """Orders of ``n`` models, one per image in turn: a Williams design.

    The first order is 0, 1, n-1, 2, n-2, ...; the others add 1, 2, ... (mod n) to it, and
    for odd ``n`` the reversed orders follow. Over the n (even ``n``) or 2n (odd ``n``)
    orders each model runs right after each other model equally often (once or twice) and
    in each position equally often. The rotation used before (each image starting one
    model later) kept the cyclic order, so each model mostly followed the same other one.
    """
    first = [0]
    for k in range(1, n):
        first.append((k + 1) // 2 if k % 2 else n - k // 2)
    orders = [[(i + shift) % n for i in first] for shift in range(n)]
    if n % 2 and n > 1:
        orders += [order[::-1] for order in orders]
    return orders


def wrap_parts(model: nn.Module, around: Callable[[str], ContextManager]) -> List[str]:
    """Run every ``PROFILED_METHODS`` call of the model's direct sub-modules inside
    ``around(label)`` (label ``'<child>.<method>'``); returns the labels.

    The wrappers are instance attributes that shadow the methods; ``unwrap_parts`` removes
    them.
    """
    labels = []
    for name, module in model.named_children():
        for method in PROFILED_METHODS:
            if callable(getattr(type(module), method, None)):
                original = getattr(module, method)
                label = f'{name}.{method}'

                def wrapped(*a, _original=original, _label=label, **kw):
                    with around(_label):
                        return _original(*a, **kw)
                setattr(module, method, wrapped)
                labels.append(label)
    return labels


def unwrap_parts(model: nn.Module) -> None:
    """Remove the wrappers of ``wrap_parts``."""
    for _, module in model.named_children():
        for method in PROFILED_METHODS:
            if method in vars(module):
                delattr(module, method)


def cycle_images(folder: str, count: int) -> List[str]:
    """``count`` image paths of ``folder``, cycling when it has fewer."""
    files = list_images(folder)
    return [files[i % len(files)] for i in range(count)]


def force_detections(node: Any, max_per_img: int = 100) -> None:
    """Set every score threshold to 0 and every final ``max_per_img`` to ``max_per_img``
    (region proposals, ``rpn``, keep their own numbers)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ('rpn', 'rpn_proposal'):
                continue
            if key in SCORE_KEYS:
                node[key] = 0.0
            elif key == 'max_per_img':
                node[key] = max_per_img
            else:
                force_detections(value, max_per_img)
    elif isinstance(node, list):
        for item in node:
            force_detections(item, max_per_img)


class Subject:
    """One model, its prepared inputs and its timings."""

    def __init__(self, config: str, checkpoint: Optional[str], args: argparse.Namespace,
                 images: List[str]) -> None:
        self.name = osp.splitext(osp.basename(config))[0]
        cfg = load_config(config)
        if args.same_detections:
            force_detections(cfg.model)
        if checkpoint is None and cfg.model.get('backbone', {}).get('init_cfg'):
            cfg.model.backbone.init_cfg = None  # random weights: no download
        self.cfg = cfg
        torch.manual_seed(args.seed)  # the same random weights in every run and model
        self.model = MODELS.build(cfg.model)
        if checkpoint is not None:
            load_checkpoint(self.model, checkpoint, map_location='cpu')
        self.model.to(args.device).eval()
        pipeline = inference_pipeline(cfg, args.resize)
        self.inputs = [pseudo_collate([pipeline(dict(img_path=p, img_id=i))])
                       for i, p in enumerate(images)]
        self.device = args.device
        self.fp16 = args.fp16
        self.times_ms: List[float] = []
        self.detections: List[int] = []  # instances per image (none for panoptic-only)
        self.peak_bytes = 0  # CUDA: the most one image allocated beyond what was held
        self.weight_bytes = sum(t.numel() * t.element_size() for t in
                                [*self.model.parameters(), *self.model.buffers()])

    @torch.no_grad()
    def run(self, index: int, timed: bool) -> None:
        cuda = self.device.startswith('cuda')
        if cuda:
            torch.cuda.synchronize()
            # what this image allocates above what is held now (every model's weights)
            held = torch.cuda.memory_allocated()
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        with torch.autocast('cuda', enabled=self.fp16):
            results = self.model.test_step(self.inputs[index])
        if cuda:
            torch.cuda.synchronize()
            self.peak_bytes = max(self.peak_bytes, torch.cuda.max_memory_allocated() - held)
        elapsed = (time.perf_counter() - start) * 1000
        if timed:
            self.times_ms.append(elapsed)
            pred = results[0].get('pred_instances')
            if pred is not None:
                self.detections.append(len(pred))

    @torch.no_grad()
    def profile(self, indices: List[int], top_ops: int = 8) -> Dict[str, Dict[str, float]]:
        """Mean ms per image inside each sub-module call and in the costliest operators."""
        from torch.profiler import ProfilerActivity, profile, record_function
        labels = wrap_parts(self.model, record_function)
        activities = [ProfilerActivity.CPU]
        if self.device.startswith('cuda'):
            activities.append(ProfilerActivity.CUDA)
        try:
            with profile(activities=activities) as prof:
                for index in indices:
                    with record_function('test_step'), \
                            torch.autocast('cuda', enabled=self.fp16):
                        self.model.test_step(self.inputs[index])
        finally:
            unwrap_parts(self.model)
        events = prof.key_averages()
        time_key = 'device_time_total' if self.device.startswith('cuda') else 'cpu_time_total'
        n = len(indices)
        parts = {e.key: getattr(e, time_key) / 1000 / n for e in events
                 if e.key in labels or e.key == 'test_step'}
        ops = sorted((e for e in events if e.key not in parts),
                     key=lambda e: e.self_device_time_total if time_key.startswith('device')
                     else e.self_cpu_time_total, reverse=True)[:top_ops]
        self_key = 'self_device_time_total' if time_key.startswith('device') \
            else 'self_cpu_time_total'
        return dict(parts=parts, ops={e.key: getattr(e, self_key) / 1000 / n for e in ops})

    def summary(self, reference_times_ms: List[float]) -> Dict[str, Any]:
        """Median time and ratios to the first model, whose per-image times are given.

        ``ratio_to_first`` is the ratio of the medians; ``paired_ratio_to_first`` the median
        of the per-image ratios, each taken between runs of the same image moments apart,
        so that a drift of the machine's speed during the run cancels in it.
        """
        median = statistics.median(self.times_ms)
        return dict(model=self.name, median_ms=median, fps=1000.0 / median,
                    ratio_to_first=median / statistics.median(reference_times_ms),
                    paired_ratio_to_first=statistics.median(
                        t / r for t, r in zip(self.times_ms, reference_times_ms)),
                    images=len(self.times_ms), times_ms=list(self.times_ms),
                    mean_detections=statistics.mean(self.detections) if self.detections
                    else None,
                    peak_cuda_mem_mib=(self.weight_bytes + self.peak_bytes) / 2**20
                    if self.peak_bytes else None)


class OnnxRuntimeSubject(Subject):
    """The model of a PyTorch ``Subject`` exported to ONNX and run by ONNX Runtime, on the
    same prepared inputs."""

    def __init__(self, torch_subject: Subject, args: argparse.Namespace,
                 allow_spinning: bool = False) -> None:
        from mmdet_dr1mask.deploy import OnnxRuntimeSegmentor, export_onnx
        from mmdet_dr1mask.deploy.ort_backend import graph_inputs
        os.makedirs(args.onnx_dir, exist_ok=True)
        path = osp.join(args.onnx_dir, torch_subject.name + '.onnx')
        model = torch_subject.model.cpu()
        with torch.no_grad():
            export_onnx(model, graph_inputs(
                model.data_preprocessor(torch_subject.inputs[0], False))[0], path)
        model.to(args.device)
        providers = ['CUDAExecutionProvider'] if args.device.startswith('cuda') else \
            ['CPUExecutionProvider']
        # spinning (ONNX Runtime's default) only for a graph alone in the process: interleaved,
        # idle spinning threads would take the CPU from the other subjects' turns
        self.model = OnnxRuntimeSegmentor(path, torch_subject.cfg, providers,
                                          resize=args.resize, threads=torch.get_num_threads(),
                                          allow_spinning=allow_spinning)
        self.name = torch_subject.name + ' [onnxruntime]'
        self.inputs = torch_subject.inputs
        self.device = args.device
        self.fp16 = False
        self.times_ms, self.detections, self.peak_bytes, self.weight_bytes = [], [], 0, 0

    def profile(self, indices: List[int], top_ops: int = 8) -> Dict[str, Dict[str, float]]:
        return dict(parts={}, ops={})  # torch.profiler does not see inside ONNX Runtime


def main(argv: Optional[List[str]] = None) -> List[Dict[str, Any]]:
    args = parse_args(argv)
    torch.backends.cudnn.benchmark = args.cudnn_benchmark
    register_all_modules()
    images = cycle_images(args.images, args.warmup + args.num_images)
    checkpoints = [args.checkpoint] + (args.compare_checkpoints or [None] * len(args.compare))
    subjects = []
    alone = args.backends == ['onnxruntime'] and not args.compare  # one graph, no other turn
    for config, checkpoint in zip([args.config] + args.compare, checkpoints):
        subject = Subject(config, checkpoint, args, images)
        if 'pytorch' in args.backends:
            subjects.append(subject)
        if 'onnxruntime' in args.backends:
            try:
                subjects.append(OnnxRuntimeSubject(subject, args, allow_spinning=alone))
            except TypeError as e:  # a model the export does not cover: PyTorch only
                print(f'{subject.name}: no ONNX Runtime run ({e})')
    if not subjects:
        raise ValueError(f'--backends {" ".join(args.backends)}: none of the configs '
                         f'{[args.config] + args.compare} can be exported to ONNX, nothing '
                         'to time (add pytorch to --backends)')
    orders = run_orders(len(subjects))
    for index in range(len(images)):
        # interleaved: image i through every model in turn, in a balanced order (a model
        # that always ran after a large one found the caches full of that one's data)
        for k in orders[index % len(orders)]:
            subjects[k].run(index, timed=index >= args.warmup)
    rows = [s.summary(subjects[0].times_ms) for s in subjects]
    if args.profile:
        timed = list(range(args.warmup, len(images)))[:args.profile]
        for subject, row in zip(subjects, rows):
            row['profile'] = subject.profile(timed)
    report = dict(device=str(torch.cuda.get_device_name() if args.device.startswith('cuda')
                             else 'cpu'), torch=torch.__version__, fp16=args.fp16,
                  cudnn_benchmark=args.cudnn_benchmark,
                  threads=torch.get_num_threads(), warmup=args.warmup,
                  same_detections=args.same_detections, resize=args.resize, seed=args.seed,
                  backends=args.backends, onnxruntime_spinning=alone,
                  peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  date=datetime.date.today().isoformat(), cpu=platform.processor() or
                  platform.machine(), command=' '.join(['python', *sys.argv]),
                  results=rows)
    print(f"{'model':48s} {'median ms':>10s} {'FPS':>7s} {'ratio':>6s} {'paired':>6s} "
          f"{'dets':>6s}")
    for r in rows:
        dets = '-' if r['mean_detections'] is None else f"{r['mean_detections']:.1f}"
        print(f"{r['model']:48s} {r['median_ms']:10.1f} {r['fps']:7.2f} "
              f"{r['ratio_to_first']:6.3f} {r['paired_ratio_to_first']:6.3f} {dets:>6s}")
    print(f"device {report['device']}, {report['threads']} threads, "
          f"process peak RSS {report['peak_rss_mib']:.0f} MiB")
    for r in rows:
        if 'profile' in r:
            print(f"profile of {r['model']} (ms per image, parts include their sub-calls):")
            for key, ms in {**r['profile']['parts'], **r['profile']['ops']}.items():
                print(f'  {key:56s} {ms:9.1f}')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(report, f, indent=1)
    if args.markdown:
        with open(args.markdown, 'w') as f:
            f.write(markdown(report))
    return rows


def markdown(report: Dict[str, Any]) -> str:
    """The report as a Markdown table with the command and the machine that made it."""
    same = ', same detections (score 0, max 100)' if report['same_detections'] else ''
    lines = [f"Measured {report['date']} on {report['device']} ({report['cpu']}, "
             f"{report['threads']} threads, torch {report['torch']}"
             f"{', FP16' if report['fp16'] else ''}"
             f"{', cuDNN benchmark' if report.get('cudnn_benchmark') else ''}), median over "
             f"{report['results'][0]['images']} images after {report['warmup']} warm-up "
             f"images, batch 1{same}:",
             '', '```bash', report['command'], '```', '',
             '| model | median ms/img | FPS | ratio to first | paired ratio to first '
             '| detections/img | peak CUDA MiB |',
             '| --- | ---: | ---: | ---: | ---: | ---: | ---: |']
    for r in report['results']:
        dets = '-' if r['mean_detections'] is None else f"{r['mean_detections']:.1f}"
        mem = '-' if r['peak_cuda_mem_mib'] is None else f"{r['peak_cuda_mem_mib']:.0f}"
        lines.append(f"| {r['model']} | {r['median_ms']:.1f} | {r['fps']:.2f} | "
                     f"{r['ratio_to_first']:.3f} | {r['paired_ratio_to_first']:.3f} | {dets} "
                     f"| {mem} |")
    lines.append('\nRatio to first: of the medians. Paired ratio: the median of the per-image '
                 'ratios (each image runs through the models in turn, so a drift of the '
                 "machine's speed cancels in it).")
    lines.append(f"\nProcess peak RSS: {report['peak_rss_mib']:.0f} MiB.\n")
    for r in report['results']:
        if 'profile' in r:
            lines += [f"Profile of {r['model']}, ms per image (torch.profiler; a part "
                      'includes the parts it calls):', '', '| part or operator | ms |',
                      '| --- | ---: |']
            lines += [f'| {key} | {ms:.1f} |' for key, ms in r['profile']['parts'].items()]
            lines += [f'| op `{key}` (self) | {ms:.1f} |'
                      for key, ms in r['profile']['ops'].items()]
            lines.append('')
    return '\n'.join(lines)


if __name__ == '__main__':
    main()
