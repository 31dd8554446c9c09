"""models/cpu_extension.py: how the C++ kernels are built (each kernel module's own tests
check what its kernels compute)."""
import warnings

import pytest

from mmdet_dr1mask.models import cpu_extension


@pytest.mark.parametrize('backend', ['OpenMP', 'native thread pool'])
def test_the_kernels_are_built_with_openmp_where_torch_uses_it_else_without(backend,
                                                                             monkeypatch,
                                                                             tmp_path):
    """ATen's parallel_for is inline: without -fopenmp the kernels would run on one thread.
    Where the OpenMP build fails (a compiler without OpenMP) the plain build is used,
    without a warning."""
    flags_tried = []

    def load_inline(*args, extra_cflags=(), extra_ldflags=(), **kwargs):
        flags_tried.append(list(extra_cflags))
        if '-fopenmp' in extra_cflags:
            assert '-fopenmp' in extra_ldflags
            raise RuntimeError('no OpenMP')
        return 'module'
    monkeypatch.setattr('torch.utils.cpp_extension.load_inline', load_inline)
    monkeypatch.setattr('torch.__config__.parallel_info',
                        lambda: f'ATen parallel backend: {backend}\n')
    source = tmp_path / 'k.cpp'
    source.write_text('')
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert cpu_extension.build_cpu_extension('name', source, ['f'], 'test kernels') == \
            'module'
    if backend == 'OpenMP':
        assert flags_tried == [['-O3', '-fopenmp'], ['-O3']]
    else:
        assert flags_tried == [['-O3']]


def test_a_failed_build_names_the_kernels_and_the_error_in_one_warning(monkeypatch, tmp_path):
    def no_compiler(*args, **kwargs):
        raise RuntimeError('no C++ compiler')
    monkeypatch.setattr('torch.utils.cpp_extension.load_inline', no_compiler)
    source = tmp_path / 'k.cpp'
    source.write_text('')
    with pytest.warns(UserWarning, match='the test kernels could not be built.*no C\\+\\+ '
                      'compiler.*DR1MASK_CPU_KERNELS=0') as record:
        assert cpu_extension.build_cpu_extension('name', source, ['f'], 'test kernels') is None
    assert len(record) == 1


@pytest.mark.parametrize('value, enabled', [('0', False), ('1', True), (None, True)])
def test_the_environment_switches_every_kernel_off(value, enabled, monkeypatch):
    if value is None:
        monkeypatch.delenv('DR1MASK_CPU_KERNELS', raising=False)
    else:
        monkeypatch.setenv('DR1MASK_CPU_KERNELS', value)
    assert cpu_extension.kernels_enabled() is enabled


def test_each_extension_is_built_once_per_process_and_not_at_all_when_switched_off(
        monkeypatch, tmp_path):
    builds = []
    monkeypatch.setattr(cpu_extension, 'build_cpu_extension',
                        lambda name, *args: builds.append(name) or f'module {name}')
    monkeypatch.setattr(cpu_extension, '_BUILT', {})
    monkeypatch.setenv('DR1MASK_CPU_KERNELS', '0')
    assert cpu_extension.cpu_kernels_of('a', tmp_path / 'a.cpp', ['f'], 'a kernels') is None
    assert builds == []
    monkeypatch.setenv('DR1MASK_CPU_KERNELS', '1')
    for _ in range(2):
        assert cpu_extension.cpu_kernels_of('a', tmp_path / 'a.cpp', ['f'], 'a') == 'module a'
        assert cpu_extension.cpu_kernels_of('b', tmp_path / 'b.cpp', ['f'], 'b') == 'module b'
    assert builds == ['a', 'b']
