"""The sdist and the wheel built from it (what ``python -m build`` and a PyPI install do)
carry the configs, tools and model index that mim and users look for."""
import email
import glob
import os.path as osp
import sys
import tarfile
import zipfile

from conftest import REPO_ROOT, run_checked


def repo_files(folder: str, pattern: str) -> set:
    """Files matching ``pattern`` under ``folder`` of the checkout, relative to the root."""
    return {osp.relpath(path, REPO_ROOT)
            for path in glob.glob(osp.join(REPO_ROOT, folder, '**', pattern), recursive=True)}


def test_sdist_holds_configs_tools_model_index_and_requirements(installed_wheel):
    with tarfile.open(installed_wheel['sdist']) as sdist:
        names = {name.split('/', 1)[1] for name in sdist.getnames() if '/' in name}
    expected = (repo_files('configs', '*.py') | repo_files('configs', '*.yml')
                | repo_files('tools', '*.py') | repo_files('tools', '*.sh')
                | repo_files('requirements', '*.txt'))
    assert expected <= names, sorted(expected - names)
    assert {'setup.py', 'setup.cfg', 'pyproject.toml', 'MANIFEST.in', 'model-index.yml'} <= names
    assert not [name for name in names if '__pycache__' in name]


def test_wheel_built_from_the_sdist_ships_configs_tools_and_model_index_in_mim(
        installed_wheel):
    with zipfile.ZipFile(installed_wheel['wheel']) as wheel:
        names = set(wheel.namelist())
    mim = 'mmdet_dr1mask/.mim/'
    shipped = {mim + path for path in repo_files('configs', '*.py') | repo_files('tools', '*.py')}
    assert shipped <= names, sorted(shipped - names)
    assert mim + 'model-index.yml' in names
    assert 'mmdet_dr1mask/support/checkpoint.py' in names
    assert not [name for name in names if '__pycache__' in name or name.endswith('.pyc')]


def test_wheel_leaves_torch_to_the_user(installed_wheel):
    """As MMDetection, no torch requirement: pip must not replace a user's CUDA torch."""
    with zipfile.ZipFile(installed_wheel['wheel']) as wheel:
        metadata = next(n for n in wheel.namelist() if n.endswith('.dist-info/METADATA'))
        requires = email.message_from_bytes(wheel.read(metadata)).get_all('Requires-Dist')
    names = [req.split(';')[0].split('<')[0].split('>')[0].split('=')[0].strip()
             for req in requires]
    assert 'torch' not in names, requires
    assert {'mmcv', 'mmdet', 'mmengine'} <= set(names)


def test_requirement_files_leave_torch_to_the_user():
    """tools/setup_env.sh installs these with pip after keeping the torch it found."""
    for path in glob.glob(osp.join(REPO_ROOT, 'requirements', '*.txt')):
        with open(path) as f:
            lines = [line.split('#')[0].strip() for line in f]
        assert not [line for line in lines if line.startswith('torch')], path


def test_installed_wheel_is_imported_from_its_target(installed_wheel, tmp_path):
    out = run_checked([sys.executable, '-c', 'import mmdet_dr1mask; print(mmdet_dr1mask.__file__)'],
                      env=installed_wheel['env'], cwd=str(tmp_path))
    assert out.strip().startswith(installed_wheel['target'])


def test_wheel_ships_the_cpu_kernels_and_builds_them(installed_wheel, tmp_path):
    """The C++ sources are package data and ninja a requirement: load_inline builds the
    kernels from the installed package (from PyTorch's extension cache when built before)."""
    with zipfile.ZipFile(installed_wheel['wheel']) as wheel:
        names = set(wheel.namelist())
        metadata = next(n for n in names if n.endswith('.dist-info/METADATA'))
        requires = email.message_from_bytes(wheel.read(metadata)).get_all('Requires-Dist')
    assert 'mmdet_dr1mask/models/seg_heads/panoptic_kernels.cpp' in names
    assert 'mmdet_dr1mask/models/layers/dr1_conv_kernels.cpp' in names
    assert 'ninja' in [req.split(';')[0].strip() for req in requires], requires
    out = run_checked([sys.executable, '-c',
                       'from mmdet_dr1mask.models.seg_heads import panoptic_kernels as k; '
                       'from mmdet_dr1mask.models.layers import dr1_conv_kernels as c; '
                       'print(k.SOURCE, k.cpu_kernels() is not None, '
                       'c.SOURCE, c.dr1_conv_kernels() is not None)'],
                      env=installed_wheel['env'], cwd=str(tmp_path))
    source, built, conv_source, conv_built = out.split()[-4:]
    assert source.startswith(installed_wheel['target']) and built == 'True', out
    assert conv_source.startswith(installed_wheel['target']) and conv_built == 'True', out
