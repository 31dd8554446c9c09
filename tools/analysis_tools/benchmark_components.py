"""Costs of DR1Mask's parts against their counterparts (docs/benchmarks.md, component costs).

Three timing groups, each run interleaved in one process (one call of every subject per
round, the order changing from round to round as ``benchmark.py``'s Williams design, so
that each subject follows each other one equally often), reporting the median ms per call
and the ratio to the group's first subject; the shapes are those of a COCO image at the
test size (input 800x1216 after padding; FPN P3 is 100x152):

* ``conv-32``, ``conv-64``, ``conv-256``: a plain conv (ConvModule with BN and ReLU)
  against DR1Conv of the same shape (Eq. 4: the same conv of X * A, times B), at the
  basis widths D = 32 and 64 and at 256 channels, on P3: DR1Conv's inference path (BN
  folded into the conv; on CPU up to 64 channels the products done in the two layout
  passes of a channels-last convolution, see ``dr1_conv.py``), its unfused path (conv,
  BN, ReLU, two products: what training runs), and the plain conv through DR1Conv's
  inference path without factors; with ``--onnxruntime`` also the plain conv and DR1Conv
  exported to ONNX and run by ONNX Runtime (timed among themselves after the PyTorch
  subjects, ratios to the PyTorch plain conv). On CPU each row also gives the median
  count of minor page faults per call.
* ``basis``: DR1Basis (Eq. 6) at D = 32 and 64 against BlendMask's basis (P3-P5, 128
  channels, 4 bases), from FPN features P3-P7 (and contexts) to the stride-4 output.
* ``blender``: the three blenders of Table 4 (vector, full, factored attention, D = 32)
  and BlendMask's (full attention on 4 bases), RoIAlign included, at 100 instances.

``--memory CFG ...`` measures training memory instead: every config runs one training
step (forward, loss, backward) at batch 2 on images resized to 1333x800, each in a
fresh process, from random weights. On CUDA it reports ``max_memory_allocated``; on
CPU the process's peak resident memory during the step over its resident memory
before it (PyTorch keeps no CPU allocator statistics; Linux only), which includes the
allocator's own caching.

    python tools/analysis_tools/benchmark_components.py --repeats 30 --out comp.json
    python tools/analysis_tools/benchmark_components.py --memory CFG1 CFG2 \\
        --images IMG_DIR --ann-file COCO.json --out mem.json
"""
import argparse
import ctypes
import ctypes.util
import datetime
import json
import os.path as osp
import platform
import resource
import statistics
import subprocess
import sys
import time
from typing import Any, Callable, Dict, List, Optional

import torch
from mmcv.cnn import ConvModule
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.registry import MODELS

import mmdet_dr1mask  # noqa: F401  (registers the modules)
from mmdet_dr1mask.models.layers import DR1Conv
from mmdet_dr1mask.models.mask_heads import BlenderHead
from mmdet_dr1mask.models.necks import BlendMaskBasis, DR1Basis

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from benchmark import run_orders  # noqa: E402  (the order design shared with benchmark.py)

INPUT_SIZE = (800, 1216)  # a COCO image at the test scale, padded to 32
STRIDES = (8, 16, 32, 64, 128)  # P3..P7
NUM_INSTANCES = 100
BN_RELU = dict(norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU'))
GROUPS = ('conv-32', 'conv-64', 'conv-256', 'basis', 'blender')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--groups', nargs='+', default=list(GROUPS), choices=list(GROUPS))
    parser.add_argument('--repeats', type=int, default=30, help='timed calls per subject')
    parser.add_argument('--warmup', type=int, default=3, help='untimed calls per subject')
    parser.add_argument('--size', nargs=2, type=int, default=list(INPUT_SIZE),
                        metavar=('H', 'W'), help='padded network input size')
    parser.add_argument('--onnxruntime', action='store_true',
                        help='conv groups: also time the plain conv and DR1Conv in ONNX Runtime')
    parser.add_argument('--memory', nargs='+', metavar='CFG',
                        help='measure training memory of these configs instead')
    parser.add_argument('--images', help='--memory: folder of the images of --ann-file')
    parser.add_argument('--ann-file', help='--memory: COCO instances json')
    parser.add_argument('--batch-size', type=int, default=2)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--memory-of', help=argparse.SUPPRESS)  # the child process
    parser.add_argument('--out', help='write the results as JSON')
    args = parser.parse_args(argv)
    if args.memory and not (args.images and args.ann_file):
        parser.error('--memory needs --images and --ann-file')
    if args.repeats < 1 or args.warmup < 0:
        parser.error('--repeats must be >= 1 and --warmup >= 0')
    return args


def fpn_shapes(size: List[int]) -> List[tuple]:
    return [(-(-size[0] // s), -(-size[1] // s)) for s in STRIDES]


def onnxruntime_call(module: torch.nn.Module, inputs: tuple) -> Callable[[], Any]:
    """``module`` exported to ONNX and run by ONNX Runtime on ``inputs`` (CPU, as many
    threads as torch, no spinning: the subjects take turns on the same cores).

    A copy in eval mode is exported: the exporter puts the module it gets back into that
    module's mode, recursively, which for a wrapper made in training mode turned the
    PyTorch subject it wraps to training mode (BN on batch statistics, DR1Conv's unfused
    path) in every ``--onnxruntime`` run up to 2026-12-04 (docs/benchmarks.md).
    """
    import copy
    import tempfile

    import onnxruntime as ort
    names = [f'input{i}' for i in range(len(inputs))]
    with tempfile.TemporaryDirectory() as tmp, torch.no_grad():
        path = f'{tmp}/module.onnx'
        torch.onnx.export(copy.deepcopy(module).eval(), inputs, path, dynamo=False,
                          opset_version=17, input_names=names)
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        options.add_session_config_entry('session.intra_op.allow_spinning', '0')
        session = ort.InferenceSession(path, options, providers=['CPUExecutionProvider'])
    feeds = {n: t.cpu().numpy() for n, t in zip(names, inputs)}
    return lambda: session.run(None, feeds)


class _Call(torch.nn.Module):
    """A module's call with extra inputs, as one module to export."""

    def __init__(self, module: torch.nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, *inputs):
        return self.module(*inputs)


def component_subjects(group: str, size: List[int], device: str, onnx: bool = False
                       ) -> Dict[str, Callable[[], Any]]:
    """``{name: call}`` for one group; every call runs the component once on fixed inputs."""
    def rand(*shape):
        return torch.randn(*shape, device=device)

    def ready(module):
        return module.to(device).eval()

    shapes = fpn_shapes(size)
    subjects = {}
    if group.startswith('conv-'):
        h, w = shapes[0]
        ch = int(group.split('-')[1])
        x, a, b = rand(1, ch, h, w), rand(1, ch, h, w), rand(1, ch, h, w)
        plain = ready(ConvModule(ch, ch, 3, padding=1, **BN_RELU))
        dr1 = ready(DR1Conv(ch, ch, 3, **BN_RELU))
        folded = ready(DR1Conv(ch, ch, 3, use_a=False, use_b=False, **BN_RELU))
        subjects[f'conv {ch}->{ch} 3x3 + BN + ReLU at P3'] = lambda: plain(x)
        subjects[f'DR1Conv {ch}->{ch} 3x3 + BN + ReLU at P3'] = lambda: dr1(x, a, b)
        subjects[f'DR1Conv {ch}->{ch}, unfused (training path)'] = \
            lambda: dr1.conv(x * a) * b
        # DR1Conv without factors is the plain conv through the same BN fold
        subjects[f'conv {ch}->{ch}, BN folded'] = lambda: folded(x)
        if onnx:
            subjects[f'conv {ch}->{ch} [onnxruntime]'] = onnxruntime_call(plain, (x, ))
            subjects[f'DR1Conv {ch}->{ch} [onnxruntime]'] = \
                onnxruntime_call(_Call(dr1), (x, a, b))
    elif group == 'basis':
        feats = [rand(1, 256, h, w) for h, w in shapes]
        out_size = (size[0] // 4, size[1] // 4)
        for d in (32, 64):
            basis = ready(DR1Basis(256, d))
            contexts = [rand(1, 2 * d, h, w) for h, w in shapes]
            subjects[f'DR1Basis D={d}'] = \
                lambda m=basis, c=contexts: m(feats, c, out_size)
        blend = ready(BlendMaskBasis(256, 128, 4))
        subjects['BlendMaskBasis 128 ch, 4 bases'] = lambda m=blend: m(feats, None, out_size)
    elif group == 'blender':
        g = torch.Generator().manual_seed(0)
        xy = torch.rand(NUM_INSTANCES, 2, generator=g) * torch.tensor([size[1], size[0]]) * 0.7
        wh = torch.rand(NUM_INSTANCES, 2, generator=g) * 300 + 16
        rois = torch.cat([torch.zeros(NUM_INSTANCES, 1), xy, xy + wh], dim=1).to(device)
        variants = [('vector', 32, True), ('full', 32, True), ('factored', 32, True),
                    ('full', 4, False)]
        for attention, d, projection in variants:
            cfg = dict(type=f'{attention.capitalize()}Attention')
            if not projection:
                cfg['use_projection'] = False
            head = ready(BlenderHead(d, cfg))
            bases = rand(1, d, size[0] // 4, size[1] // 4)
            emb = rand(NUM_INSTANCES, head.embedding_channels)
            name = (f'{attention} attention, D={d}' if projection
                    else 'BlendMask full attention, 4 bases')
            subjects[f'{name} (E={head.embedding_channels})'] = \
                lambda m=head, b=bases, e=emb: m(b, rois, e)
    return subjects


@torch.no_grad()
def time_group(subjects: Dict[str, Callable[[], Any]], repeats: int, warmup: int,
               device: str) -> List[Dict[str, Any]]:
    """Interleaved timing; median ms per call and ratio to the first subject.

    Round r calls every subject once, in the order ``run_orders(len(subjects))[r % k]`` (k
    orders): each subject runs right after each other one equally often over k rounds, so
    that what a neighbour leaves in the caches and the allocator is shared out evenly.
    On CPU also the median count of minor page faults per call: a fresh buffer of a
    P3-sized map (2 MB at D = 32) costs about 470 of them (some 0.4 ms) whenever glibc has
    given the memory back to the system, which depends on what ran before, so that a
    subject's time moves with its neighbours' allocations (docs/benchmarks.md).
    """
    cuda = device.startswith('cuda')
    times = {name: [] for name in subjects}
    faults = {name: [] for name in subjects}
    names = list(subjects)
    orders = run_orders(len(names))
    for round_index in range(warmup + repeats):
        for index in orders[round_index % len(orders)]:
            name, call = names[index], subjects[names[index]]
            if cuda:
                torch.cuda.synchronize()
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            start = time.perf_counter()
            call()
            if cuda:
                torch.cuda.synchronize()
            if round_index >= warmup:
                times[name].append((time.perf_counter() - start) * 1000)
                faults[name].append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt -
                                    before)
    first = statistics.median(next(iter(times.values())))
    rows = []
    for name, t in times.items():
        row = dict(name=name, median_ms=statistics.median(t),
                   ratio_to_first=statistics.median(t) / first)
        if not cuda:
            row['median_page_faults'] = statistics.median(faults[name])
        rows.append(row)
    return rows


def _proc_status_bytes(field: str) -> int:
    """``VmRSS``/``VmHWM`` of this process from /proc/self/status, in bytes."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f'{field} not in /proc/self/status')


def _reset_cpu_peak() -> int:
    """Start a CPU peak-memory window; returns the resident bytes at its start.

    Freed heap is handed back to the OS first (glibc ``malloc_trim``), otherwise
    the step would reuse pages freed by data loading and its growth would read
    low (even 0). Writing 5 to ``clear_refs`` resets the high-water mark
    ``VmHWM`` to the current RSS (Linux >= 4.0).
    """
    libc = ctypes.util.find_library('c')
    if libc:
        ctypes.CDLL(libc).malloc_trim(0)
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')
    return _proc_status_bytes('VmRSS')


def training_memory(config: str, args: argparse.Namespace) -> Dict[str, Any]:
    """One training step of ``config`` at batch ``args.batch_size``, 1333x800 images."""
    from mmdet.datasets import CocoDataset
    from mmengine.dataset import pseudo_collate
    register_all_modules()
    cfg = Config.fromfile(config)
    if cfg.model.get('backbone', {}).get('init_cfg'):
        cfg.model.backbone.init_cfg = None  # random weights: memory does not depend on them
    model = MODELS.build(cfg.model).to(args.device).train()
    metainfo = cfg.get('train_dataloader', {}).get('dataset', {}).get('metainfo')
    dataset = CocoDataset(ann_file=args.ann_file, data_prefix=dict(img=args.images),
                          metainfo=metainfo,
                          filter_cfg=dict(filter_empty_gt=True), pipeline=[
                              dict(type='LoadImageFromFile'),
                              dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
                              dict(type='Resize', scale=(1333, 800), keep_ratio=True),
                              dict(type='PackDetInputs')])
    batch = pseudo_collate([dataset[i] for i in range(args.batch_size)])
    cuda = args.device.startswith('cuda')
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    else:
        before = _reset_cpu_peak()
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    loss, _ = model.parse_losses(losses)
    loss.backward()
    if cuda:
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated()
    else:
        peak = _proc_status_bytes('VmHWM')
    return dict(config=config, input_shape=list(data['inputs'].shape),
                measure='cuda max_memory_allocated' if cuda else 'peak RSS over RSS before',
                step_mib=(peak - before) / 2**20, loss=float(loss))


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    args = parse_args(argv)
    if args.memory_of:
        print(json.dumps(training_memory(args.memory_of, args)))
        return {}
    report = dict(device=torch.cuda.get_device_name() if args.device.startswith('cuda')
                  else 'cpu', cpu=platform.processor() or platform.machine(),
                  torch=torch.__version__, threads=torch.get_num_threads(),
                  date=datetime.date.today().isoformat(),
                  command=' '.join(['python', *sys.argv]))
    if args.memory:
        rows = []
        for config in args.memory:  # a fresh process each: peak memory is per process
            cmd = [sys.executable, __file__, '--memory-of', config, '--images', args.images,
                   '--ann-file', args.ann_file, '--batch-size', str(args.batch_size),
                   '--device', args.device]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            rows.append(json.loads(out.strip().splitlines()[-1]))
            print(f"{rows[-1]['config']:60s} {rows[-1]['step_mib']:9.0f} MiB "
                  f"({rows[-1]['measure']}, input {rows[-1]['input_shape']})")
        report['memory'] = rows
    else:
        report.update(size=args.size, repeats=args.repeats, warmup=args.warmup, groups={})
        for group in args.groups:
            subjects = component_subjects(group, args.size, args.device, args.onnxruntime)
            # ONNX Runtime's calls take turns among themselves, after PyTorch's: interleaved
            # with PyTorch, each framework's idle thread pool slows the other's short calls
            onnx = {k: v for k, v in subjects.items() if k.endswith('[onnxruntime]')}
            rows = time_group({k: v for k, v in subjects.items() if k not in onnx},
                              args.repeats, args.warmup, args.device)
            if onnx:
                for row in time_group(onnx, args.repeats, args.warmup, args.device):
                    row['ratio_to_first'] = row['median_ms'] / rows[0]['median_ms']
                    rows.append(row)
            report['groups'][group] = rows
            for r in rows:
                faults = r.get('median_page_faults')
                print(f"{group:8s} {r['name']:48s} {r['median_ms']:9.2f} ms "
                      f"{r['ratio_to_first']:6.3f}" +
                      ('' if faults is None else f" {faults:7.0f} page faults"))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(report, f, indent=1)
    return report


if __name__ == '__main__':
    main()
