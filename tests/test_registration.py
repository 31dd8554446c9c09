"""Importing mmdet_dr1mask registers its modules; configs need only custom_imports."""
import subprocess
import sys
import textwrap

import mmdet_dr1mask  # noqa: F401

# Every registered type of the package, by registry.
REGISTERED = {
    'mmengine.MODELS': ['DR1Conv'],
    'mmdet.MODELS': ['DR1Basis', 'BlendMaskBasis', 'DR1FCOSHead', 'BlenderHead',
                     'ThingSemanticHead', 'DR1PanopticHead', 'DR1Mask', 'BlendMask'],
    'mmdet.HOOKS': ['ProgressBarHook'],
}


def test_import_registers_every_module():
    from mmdet.registry import HOOKS, MODELS
    from mmengine.registry import MODELS as ROOT_MODELS
    registries = {'mmengine.MODELS': ROOT_MODELS, 'mmdet.MODELS': MODELS, 'mmdet.HOOKS': HOOKS}
    for registry, names in REGISTERED.items():
        for name in names:
            assert registries[registry].get(name) is not None, f'{name} in {registry}'


def test_a_config_with_custom_imports_builds_our_modules_in_a_fresh_interpreter(tmp_path):
    cfg_file = tmp_path / 'cfg.py'
    cfg_file.write_text(textwrap.dedent("""
        custom_imports = dict(imports=['mmdet_dr1mask'], allow_failed_imports=False)
        model = dict(type='DR1Basis', in_channels=8, channels=4)
        layer = dict(type='DR1Conv', in_channels=4, out_channels=4)
    """))
    script = textwrap.dedent(f"""
        import sys
        from mmengine.config import Config
        assert 'mmdet_dr1mask' not in sys.modules
        cfg = Config.fromfile({str(cfg_file)!r})
        from mmdet.registry import MODELS
        print(type(MODELS.build(cfg.model)).__name__, type(MODELS.build(cfg.layer)).__name__)
    """)
    out = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ['DR1Basis', 'DR1Conv']
