"""Importing mmdet_dr1mask registers its modules; configs need only custom_imports.

The registered types are enumerated from the registries, not listed by hand: every
type that any module of the package registers must be registered by importing the
package alone, and be importable from its sub-package.
"""
import importlib
import json
import pkgutil
import subprocess
import sys
import textwrap

import mmdet_dr1mask

# what a fresh interpreter runs to list the package's types in every registry
ENUMERATE = textwrap.dedent("""
    import mmdet.registry, mmengine.registry
    from mmengine.registry import Registry

    def registered_types():
        found = {}
        for owner in (mmengine.registry, mmdet.registry):
            for attr, registry in vars(owner).items():
                if not isinstance(registry, Registry):
                    continue
                names = sorted(name for name, cls in registry.module_dict.items()
                               if cls.__module__.startswith('mmdet_dr1mask.'))
                if names:
                    found[f'{owner.__name__}.{attr}'] = names
        return found
""")


def registered_types() -> dict:
    """{registry: sorted type names} of the package, after importing all its modules."""
    for module in pkgutil.walk_packages(mmdet_dr1mask.__path__, 'mmdet_dr1mask.'):
        importlib.import_module(module.name)
    scope: dict = {}
    exec(ENUMERATE, scope)
    return scope['registered_types']()


def test_importing_the_package_registers_every_type_its_modules_register():
    everything = registered_types()
    assert sum(map(len, everything.values())) > 20  # the enumeration finds the types
    script = ENUMERATE + textwrap.dedent("""
        import json
        import mmdet_dr1mask
        print(json.dumps(registered_types()))
    """)
    out = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                         check=True).stdout
    assert json.loads(out) == everything


def test_every_registered_type_is_exported_by_its_sub_package():
    for registry, names in registered_types().items():
        owner = importlib.import_module(registry.rsplit('.', 1)[0])
        for name in names:
            cls = getattr(owner, registry.rsplit('.', 1)[1]).get(name)
            package = importlib.import_module(cls.__module__.rsplit('.', 1)[0])
            assert getattr(package, name, None) is cls, f'{name} not in {package.__name__}'


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
