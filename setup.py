"""Build script: metadata lives in setup.cfg; this file only adds the `.mim` folder.

OpenMMLab's mim (``mim train/test mmdet_dr1mask CONFIG``, ``mim search``, ``mim list``)
looks for configs, tools and the model index under
``<site-packages>/mmdet_dr1mask/.mim/``, as MMDetection ships them (its
``add_mim_extension``). ``build_py`` copies them there in every wheel, including the one
pip builds from the sdist (MANIFEST.in puts them in the sdist).
"""
import os.path as osp
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = osp.dirname(osp.abspath(__file__))
PACKAGE = 'mmdet_dr1mask'
MIM_FILES = ('configs', 'tools', 'model-index.yml')


class BuildPyWithMim(build_py):
    """Copy configs/, tools/ and model-index.yml into ``<build>/mmdet_dr1mask/.mim``."""

    def run(self) -> None:
        super().run()
        mim_dir = osp.join(self.build_lib, PACKAGE, '.mim')
        for name in MIM_FILES:
            src, dst = osp.join(HERE, name), osp.join(mim_dir, name)
            if osp.isdir(src):
                shutil.copytree(src, dst, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns('__pycache__', '*.py[cod]'))
            else:
                shutil.copyfile(src, dst)


if __name__ == '__main__':
    setup(cmdclass={'build_py': BuildPyWithMim})
