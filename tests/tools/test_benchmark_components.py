"""tools/analysis_tools/benchmark_components.py: component timings and training memory."""
import json
import os.path as osp
from collections import Counter

import numpy as np
import torch
from conftest import REPO_ROOT, load_tool

from mmdet_dr1mask.models.layers import DR1Conv

TINY = osp.join(REPO_ROOT, 'configs', 'dr1mask', 'dr1mask_r18_fpn_tiny_synthetic.py')


def test_every_group_times_its_subjects_against_the_first(tmp_path):
    tool = load_tool('analysis_tools/benchmark_components.py')
    out = tmp_path / 'components.json'
    report = tool.main(['--repeats', '2', '--warmup', '1', '--size', '64', '96',
                        '--out', str(out)])
    groups = report['groups']
    assert set(groups) == set(tool.GROUPS)
    assert [r['name'].split()[0] for r in groups['conv-32']] == \
        ['conv', 'DR1Conv', 'DR1Conv', 'conv']  # plain, inference, unfused, plain folded
    assert len(groups['basis']) == 3 and len(groups['blender']) == 4
    for rows in groups.values():
        assert rows[0]['ratio_to_first'] == 1.0
        assert all(r['median_ms'] > 0 for r in rows)
    assert json.loads(out.read_text())['groups'] == groups


def test_training_memory_runs_one_step_per_config_in_its_own_process(synthetic_root):
    tool = load_tool('analysis_tools/benchmark_components.py')
    report = tool.main(['--memory', TINY, '--images', osp.join(synthetic_root, 'train') + '/',
                        '--ann-file', osp.join(synthetic_root, 'annotations',
                                               'instances_train.json')])
    (row,) = report['memory']
    assert row['input_shape'][0] == 2  # batch 2
    assert row['input_shape'][2:] == [800, 1068]  # 96x128 -> 800x1067, padded to 4
    assert row['step_mib'] > 0 and row['loss'] > 0


def test_conv_groups_also_time_both_convs_in_onnx_runtime():
    tool = load_tool('analysis_tools/benchmark_components.py')
    report = tool.main(['--groups', 'conv-32', '--repeats', '2', '--warmup', '1',
                        '--size', '64', '96', '--onnxruntime'])
    names = [r['name'] for r in report['groups']['conv-32']]
    assert names[-2:] == ['conv 32->32 [onnxruntime]', 'DR1Conv 32->32 [onnxruntime]']


def test_exporting_for_onnx_runtime_leaves_the_timed_pytorch_module_in_eval_mode():
    """The exporter restores the mode of the module it is given, recursively: a wrapper
    in training mode used to turn the PyTorch DR1Conv it wraps to training mode."""
    tool = load_tool('analysis_tools/benchmark_components.py')
    dr1 = DR1Conv(8, 8, 3, norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU')).eval()
    x, a, b = (torch.randn(1, 8, 6, 7) for _ in range(3))
    run = tool.onnxruntime_call(tool._Call(dr1), (x, a, b))
    assert not any(m.training for m in dr1.modules())
    with torch.no_grad():
        assert np.allclose(run()[0], dr1(x, a, b).numpy(), atol=1e-5)


def test_subjects_take_turns_in_the_williams_orders_of_the_model_benchmark():
    """Each subject runs right after each other one equally often (as ``benchmark.py``'s
    models), not always after the same neighbour as in a fixed round-robin."""
    tool = load_tool('analysis_tools/benchmark_components.py')
    calls = []
    subjects = {name: (lambda n=name: calls.append(n)) for name in 'abc'}
    rows = tool.time_group(subjects, repeats=6, warmup=0, device='cpu')
    assert [r['name'] for r in rows] == ['a', 'b', 'c']
    rounds = [calls[i:i + 3] for i in range(0, len(calls), 3)]
    assert rounds == [[['a', 'b', 'c'][i] for i in order] for order in tool.run_orders(3)]
    follows = Counter((r[i], r[i + 1]) for r in rounds for i in range(2))
    assert len(follows) == 6 and len(set(follows.values())) == 1
