from .dense_heads import *  # noqa: F401,F403
from .detectors import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .mask_heads import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .seg_heads import *  # noqa: F401,F403
from .utils import *  # noqa: F401,F403
