"""K-Net (Zhang, Pang, Chen, Loy, "K-Net: Towards Unified Image Segmentation",
NeurIPS 2021, Fig. 1-3): ResNet-FPN, a semantic-FPN feature map
(:class:`KNetSemanticFPN`), learned initial kernels (:class:`KNetKernelInitHead`)
and S kernel update stages (:class:`KernelIterHead`), trained with bipartite
matching; instance segmentation, or panoptic with stuff kernels.

Follows the official ``KNet`` detector (github.com/ZwwWayne/K-Net,
knet/det/knet.py), rewritten for MMDetection 3.x.

Deviations from the official implementation:

* the semantic FPN is the detector's ``semantic_fpn`` (officially the
  ``localization_fpn`` inside the initial kernel head), and the three heads are
  plain modules, not MMDetection 2.x's RPN / RoI head slots;
* a panoptic model also returns ``pred_instances`` (the thing kernels' best
  (kernel, class) pairs), so one evaluation run gives PQ and mask AP; the
  official panoptic model returns only the panoptic map;
* the ground truth is resampled to the target stride by
  :func:`gt_masks_at_stride` from MMDetection 3.x data samples (same bilinear
  resampling of padded masks as the official ``forward_train``).
"""
from typing import Dict, List, Tuple

from mmdet.models.detectors import BaseDetector
from mmdet.registry import MODELS
from mmdet.structures import OptSampleList, SampleList
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from torch import Tensor

from ..support.finite_losses import FiniteLossesMixin
from .kernel_targets import gt_masks_at_stride


@MODELS.register_module()
class KNet(FiniteLossesMixin, BaseDetector):
    """K-Net for instance or (stuff kernels in both heads) panoptic segmentation.

    Args:
        backbone (dict): e.g. ResNet.
        neck (dict): e.g. FPN with 4 outputs (strides 4-32).
        semantic_fpn (dict): :class:`KNetSemanticFPN`.
        kernel_head (dict): :class:`KNetKernelInitHead`.
        iter_head (dict): :class:`KernelIterHead`.
        mask_assign_stride (int): Stride of the masks that are matched and
            supervised. Defaults to 4.
        data_preprocessor (dict | None): e.g. ``DetDataPreprocessor`` padding
            images to a multiple of 32 (and masks, and for panoptic the
            semantic maps with 255).
        init_cfg (dict | None): Defaults to None.
    """

    def __init__(self,
                 backbone: ConfigType,
                 neck: ConfigType,
                 semantic_fpn: ConfigType,
                 kernel_head: ConfigType,
                 iter_head: ConfigType,
                 mask_assign_stride: int = 4,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck)
        self.semantic_fpn = MODELS.build(semantic_fpn)
        self.kernel_head = MODELS.build(kernel_head)
        self.iter_head = MODELS.build(iter_head)
        self.mask_assign_stride = mask_assign_stride
        if self.kernel_head.num_classes != self.iter_head.num_classes:
            raise ValueError('kernel_head and iter_head must have the same classes')

    def extract_feat(self, batch_inputs: Tensor) -> Tuple[Tensor, Tensor]:
        """The localization and semantic maps, each (B, C, H/8, W/8)."""
        return self.semantic_fpn(self.neck(self.backbone(batch_inputs)))

    def loss(self, batch_inputs: Tensor, batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """Losses of the initial kernels (``init.*``) and of every update stage
        (``s{s}.*``), with targets at ``mask_assign_stride``."""
        things, stuff = gt_masks_at_stride(
            batch_data_samples, self.mask_assign_stride, self.kernel_head.num_thing_classes,
            with_stuff=self.kernel_head.num_stuff_classes > 0)
        losses, state = self.kernel_head.loss(*self.extract_feat(batch_inputs), things, stuff)
        losses.update(self.iter_head.loss(*state, things, stuff))
        return losses

    def predict(self, batch_inputs: Tensor, batch_data_samples: SampleList,
                rescale: bool = True) -> SampleList:
        """``pred_instances``, and ``pred_panoptic_seg`` for a panoptic model."""
        state = self.kernel_head.predict(*self.extract_feat(batch_inputs))
        metas = [s.metainfo for s in batch_data_samples]
        instances, panoptic = self.iter_head.predict(*state, metas, rescale)
        for i, sample in enumerate(batch_data_samples):
            sample.pred_instances = instances[i]
            if panoptic is not None:
                sample.pred_panoptic_seg = panoptic[i]
        return batch_data_samples

    def _forward(self, batch_inputs: Tensor,
                 batch_data_samples: OptSampleList = None) -> List[Tuple[Tensor, ...]]:
        """Class logits, masks and kernels of every update stage."""
        return self.iter_head(*self.kernel_head.predict(*self.extract_feat(batch_inputs)))
