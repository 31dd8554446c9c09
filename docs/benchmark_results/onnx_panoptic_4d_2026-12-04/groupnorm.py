"""GroupNorm + ReLU of one head-tower map (1, 256, 100, 168; 32 groups) three ways, CPU,
2 threads, median ms of 30 calls: the form PyTorch's ONNX exporter writes
(InstanceNormalization, Mul, Add, Relu) in ONNX Runtime, ONNX's GroupNormalization in ONNX
Runtime (opset 18: per-group scale and bias, so without the module's affine; opset 21: per
channel), a form with the statistics in one pass (mean and mean of squares per group, then
one per-channel scale and shift: E[x^2] - E[x]^2 loses precision when a group's mean is large
against its spread, so it is not what the export writes) in ONNX Runtime, and PyTorch's
``group_norm`` + ReLU.

Usage: python groupnorm.py OUT_DIR
"""
import os.path as osp
import statistics
import sys
import time
from functools import partial

import numpy as np
import onnx
import onnx.helper as oh
import onnxruntime as ort
import torch

C, G, H, W = 256, 32, 100, 168
out_dir = sys.argv[1]
torch.manual_seed(0)
torch.set_num_threads(2)
x = torch.randn(1, C, H, W)
gn = torch.nn.GroupNorm(G, C)
with torch.no_grad():
    gn.weight.uniform_(0.5, 1.5)
    gn.bias.normal_()
module = torch.nn.Sequential(gn, torch.nn.ReLU()).eval()
with torch.no_grad():
    reference = module(x).numpy()


def median_ms(call):
    times = []
    for _ in range(31):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times[1:])


def session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    # no spinning: idle ONNX Runtime threads took the cores from PyTorch's calls after them
    # (group_norm 11-13 ms instead of 2 in such runs)
    options.add_session_config_entry('session.intra_op.allow_spinning', '0')
    return ort.InferenceSession(path, options, providers=['CPUExecutionProvider'])


graphs = {}
path = osp.join(out_dir, 'gn_exported.onnx')
torch.onnx.export(module, (x, ), path, dynamo=False, opset_version=17,
                  input_names=['x'], output_names=['y'])
graphs['exported (opset 17)'] = path
for opset in (18, 21):
    # opset 18 takes a scale and bias per group: timed as the normalisation alone (the
    # module's per-channel affine would need a Mul and an Add after it); opset 21 per channel
    scale = gn.weight.detach().numpy() if opset == 21 else np.ones(G, np.float32)
    bias = gn.bias.detach().numpy() if opset == 21 else np.zeros(G, np.float32)
    graph = oh.make_graph(
        [oh.make_node('GroupNormalization', ['x', 's', 'b'], ['n'], num_groups=G,
                      epsilon=gn.eps), oh.make_node('Relu', ['n'], ['y'])],
        'gn', [oh.make_tensor_value_info('x', onnx.TensorProto.FLOAT, [1, C, H, W])],
        [oh.make_tensor_value_info('y', onnx.TensorProto.FLOAT, None)],
        initializer=[onnx.numpy_helper.from_array(scale, 's'),
                     onnx.numpy_helper.from_array(bias, 'b')])
    model = oh.make_model(graph, opset_imports=[oh.make_opsetid('', opset)])
    model.ir_version = 10
    path = osp.join(out_dir, f'gn_opset{opset}.onnx')
    onnx.save(model, path)
    graphs[f'GroupNormalization (opset {opset})'] = path


class OnePassStats(torch.nn.Module):
    """GroupNorm + ReLU as relu(x * scale + shift), per-channel scale and shift from one
    pass of group statistics."""

    def __init__(self, norm: torch.nn.GroupNorm) -> None:
        super().__init__()
        self.norm = norm

    def forward(self, x):
        gn = self.norm
        groups = x.reshape(1, G, -1)
        mean = groups.mean(-1, keepdim=True)
        var = (groups * groups).mean(-1, keepdim=True) - mean * mean
        scale = gn.weight.reshape(1, G, -1) * (var + gn.eps).rsqrt()
        shift = gn.bias.reshape(1, G, -1) - mean * scale
        return torch.relu(x * scale.reshape(1, C, 1, 1) + shift.reshape(1, C, 1, 1))


path = osp.join(out_dir, 'gn_one_pass_stats.onnx')
torch.onnx.export(OnePassStats(gn).eval(), (x, ), path, dynamo=False, opset_version=17,
                  input_names=['x'], output_names=['y'])
graphs['one-pass statistics (opset 17)'] = path
feed = {'x': x.numpy()}
for name, path in graphs.items():
    run = session(path)
    error = ''
    if 'opset 18' not in name:  # per-group scale: not the module's affine
        error = f', max |error| {np.abs(run.run(None, feed)[0] - reference).max():.1e}'
    print(f'ONNX Runtime, {name}: {median_ms(partial(run.run, None, feed)):.2f} ms{error}')
with torch.no_grad():
    print(f'PyTorch group_norm + ReLU: {median_ms(lambda: module(x)):.2f} ms')
