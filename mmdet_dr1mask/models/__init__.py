"""DR1Mask (Chen, Shen, Tian) and BlendMask, which shares its detector, blender and
heads: every module of the paper, in MMDetection's role folders."""
from .backbones import *  # noqa: F401,F403
from .dense_heads import *  # noqa: F401,F403
from .detectors import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .mask_heads import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .seg_heads import *  # noqa: F401,F403
