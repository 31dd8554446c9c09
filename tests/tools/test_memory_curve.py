"""tools/analysis_tools/memory_curve.py: growth after the warm-up, from the samples.

The long runs themselves (2,000 iterations, 1,000 images) are the benchmark of
docs/benchmarks.md; a short run in the suite would measure the warm-up, not a leak, on a
shared machine."""
import pytest
from conftest import load_tool


def test_growth_is_measured_against_the_baseline_after_the_warm_up():
    tool = load_tool('analysis_tools/memory_curve.py')
    # 100 steps: a warm-up climb to 500 MiB, flat, then +10 % over the last 5 steps
    samples = [(s, 300 + 2 * s) for s in range(1, 11)] + [(s, 500.0) for s in range(11, 96)]
    samples += [(s, 550.0) for s in range(96, 101)]
    g = tool.growth(samples, total=100, warmup=0.1)
    assert g['baseline_mib'] == 500.0 and g['final_mib'] == 550.0
    assert g['final_growth_pct'] == pytest.approx(10.0)
    assert g['max_growth_pct'] == pytest.approx(10.0)


def test_a_flat_run_after_a_spike_has_no_final_growth():
    tool = load_tool('analysis_tools/memory_curve.py')
    samples = [(s, 400.0) for s in range(1, 101)]
    samples[50] = (51, 420.0)  # one sample during a validation
    g = tool.growth(samples, total=100, warmup=0.1)
    assert g['final_growth_pct'] == 0.0 and g['max_growth_pct'] == pytest.approx(5.0)
