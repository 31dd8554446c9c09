"""Build script: metadata lives in setup.cfg; this file only adds the `.mim` folder.

OpenMMLab tools (``mim train mmdet_dr1mask CONFIG``) look for configs and tools
under ``<package>/.mim/``. In a source checkout (editable install) those are
symlinks to the top-level ``configs/`` and ``tools/``; ``build_py`` copies the
real files into wheels and sdists.
"""
import os
import os.path as osp
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = osp.dirname(osp.abspath(__file__))
PACKAGE = 'mmdet_dr1mask'
MIM_FOLDERS = ('configs', 'tools')


def link_mim_folders() -> None:
    """Point ``mmdet_dr1mask/.mim/{configs,tools}`` at the top-level folders."""
    mim_dir = osp.join(HERE, PACKAGE, '.mim')
    os.makedirs(mim_dir, exist_ok=True)
    for name in MIM_FOLDERS:
        link = osp.join(mim_dir, name)
        if osp.islink(link) or osp.exists(link):
            continue
        os.symlink(osp.join('..', '..', name), link)


class BuildPyWithMim(build_py):
    """Copy configs/ and tools/ as real files into ``<build>/mmdet_dr1mask/.mim``."""

    def run(self) -> None:
        super().run()
        for name in MIM_FOLDERS:
            dst = osp.join(self.build_lib, PACKAGE, '.mim', name)
            if osp.islink(dst):
                os.remove(dst)
            shutil.copytree(osp.join(HERE, name), dst, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns('__pycache__'))


if __name__ == '__main__':
    link_mim_folders()
    setup(cmdclass={'build_py': BuildPyWithMim})
