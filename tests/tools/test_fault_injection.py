"""tools/analysis_tools/fault_injection.py, short: training killed with SIGKILL in the
middle of writing a checkpoint, and between the pointer and the removal of the outdated
checkpoint, resumes each time and ends with the weights, optimizer state and losses of an
uninterrupted run. (Kills at random moments would need a longer schedule to land reliably;
the benchmark of docs/benchmarks.md does those.)"""
import pytest
from conftest import load_tool


@pytest.mark.slow
def test_kills_inside_saves_are_survived_with_nothing_lost(synthetic_root, tmp_path):
    tool = load_tool('analysis_tools/fault_injection.py')
    report = tool.main([str(tmp_path), '--plan', 'checkpoint_write', 'after_pointer', '--iters',
                        '4', '--interval', '2', '--data-root', synthetic_root])
    assert report['kills'] == 2 and report['survived']
    assert all(life['pointer_names_complete_checkpoint'] for life in report['lives'][:-1])
    assert report['lives'][-1]['returncode'] == 0
    assert report['checkpoints']['weights_differing'] == []
    assert report['checkpoints']['optimizer_states_differing'] == []
    losses = report['losses']
    assert losses['differing'] == [] and losses['iterations_logged'] == 4
    assert report['equal']
    # the temporary file of the first kill and the checkpoint the second left behind are
    # removed when the next life starts
    assert report['files_left'] == ['iter_4.pth']
