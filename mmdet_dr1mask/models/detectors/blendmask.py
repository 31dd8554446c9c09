"""BlendMask (Chen et al., CVPR 2020), the baseline of DR1Mask's Tables 8–9, and its
two-branch panoptic version: a separate semantic FPN head plus heuristic fusion, the
design DR1Mask's single panoptic layer replaces."""
from typing import Dict

from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.utils import OptConfigType
from torch import Tensor

from .blender_segmentor import BlenderSegmentor, drop_embeddings


@MODELS.register_module()
class BlendMask(BlenderSegmentor):
    """BlendMask from the same parts as DR1Mask.

    ``bbox_head``: ``DR1FCOSHead`` without context (``context_channels=0``);
    ``basis_head``: ``BlendMaskBasis`` (P3–P5, 128 channels, 4 bases at stride 4);
    ``mask_head``: ``BlenderHead`` with
    ``attention=dict(type='FullAttention', use_projection=False)``
    (784-long embedding); ``semantic_head``: ``ThingSemanticHead`` on P3.

    Panoptic (both or neither), as AdelaiDet's ``configs/BlendMask/Panoptic``:
    ``panoptic_head`` is MMDetection's ``PanopticFPNHead`` (stuff + one "thing"
    channel; Detectron2's semantic FPN head) on P2–P5, which the FPN then also
    outputs (``instance_start_level=1`` keeps the instance branch on P3–P7), and
    ``panoptic_fusion_head`` its ``HeuristicFusionHead`` (mask overlap, stuff area
    limit in its ``test_cfg``); detections scoring at least
    ``instance_score_thr`` (on the sqrt(cls·ctr) scale of AdelaiDet, Detectron2's
    ``INSTANCES_CONFIDENCE_THRESH``) enter the fusion. See :class:`BlenderSegmentor` for
    the other arguments.
    """

    def __init__(self, *args, panoptic_head: OptConfigType = None,
                 panoptic_fusion_head: OptConfigType = None, instance_score_thr: float = 0.45,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if (panoptic_head is None) != (panoptic_fusion_head is None):
            raise ValueError('BlendMask panoptic needs both panoptic_head and '
                             'panoptic_fusion_head (or neither)')
        self.panoptic_head = MODELS.build(panoptic_head) if panoptic_head else None
        self.panoptic_fusion_head = MODELS.build(panoptic_fusion_head) \
            if panoptic_fusion_head else None
        self.instance_score_thr = instance_score_thr

    def loss(self, batch_inputs: Tensor, batch_data_samples: SampleList) -> Dict[str, Tensor]:
        losses, feats, _, _ = self.instance_losses(batch_inputs, batch_data_samples)
        if self.panoptic_head is not None:
            losses.update(self.panoptic_head.loss(feats, batch_data_samples))
        return losses

    def predict(self, batch_inputs: Tensor, batch_data_samples: SampleList,
                rescale: bool = True) -> SampleList:
        """``pred_instances``, and ``pred_panoptic_seg`` with the panoptic heads."""
        results, feats, _ = self.predict_instances(batch_inputs, batch_data_samples, rescale)
        results = drop_embeddings(results)
        if self.panoptic_head is not None:
            metas = [s.metainfo for s in batch_data_samples]
            seg_preds = self.panoptic_head.predict(feats, metas, rescale=rescale)
            confident = [r[r.scores >= self.instance_score_thr] for r in results]
            for sample, pan in zip(batch_data_samples,
                                   self.panoptic_fusion_head.predict(confident, seg_preds)):
                sample.pred_panoptic_seg = pan
        return self.add_pred_to_datasample(batch_data_samples, results)
