"""DR1Mask (paper Fig. 2): ResNet-FPN, DR1FCOSHead, DR1Basis, BlenderHead, and for
panoptic segmentation one more 1×1 layer over the same basis (Sec. 3.3)."""
from typing import Dict

from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.utils import OptConfigType
from mmengine.structures import InstanceData
from torch import Tensor

from .blender_segmentor import BlenderSegmentor, drop_embeddings, with_width


@MODELS.register_module()
class DR1Mask(BlenderSegmentor):
    """DR1Mask for instance or (with ``panoptic_head``) panoptic segmentation.

    ``bbox_head`` is a ``DR1FCOSHead`` whose contexts feed a ``DR1Basis``
    (``basis_head``); a ``BlenderHead`` (``mask_head``) makes the instance masks;
    ``semantic_head`` is the auxiliary thing segmentation on F (instance models).
    ``panoptic_head`` (``DR1PanopticHead``) turns F into panoptic logits with
    static stuff and dynamic thing weights; its thing weights are the
    position-insensitive part of each embedding (``mask_head.vector_embeddings``);
    its ``in_channels`` is D, taken from ``basis_head`` as the other widths.
    See :class:`BlenderSegmentor` for the other arguments.
    """

    def __init__(self, *args, panoptic_head: OptConfigType = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.panoptic_head = MODELS.build(with_width(
            panoptic_head, 'panoptic_head', 'in_channels',
            self.basis_head.out_channels)) if panoptic_head else None

    def loss(self, batch_inputs: Tensor, batch_data_samples: SampleList) -> Dict[str, Tensor]:
        losses, _, positives, bases = self.instance_losses(batch_inputs, batch_data_samples)
        if self.panoptic_head is not None:
            for pos in positives:
                pos.embeddings = self.mask_head.vector_embeddings(pos.embeddings)
            losses.update(self.panoptic_head.loss(bases, positives, batch_data_samples))
        return losses

    def predict(self, batch_inputs: Tensor, batch_data_samples: SampleList,
                rescale: bool = True) -> SampleList:
        """``pred_instances``, and ``pred_panoptic_seg`` with a panoptic head."""
        results, _, bases = self.predict_instances(batch_inputs, batch_data_samples, rescale)
        if self.panoptic_head is not None:
            things = [InstanceData(labels=r.labels, scores=r.scores, masks=r.masks,
                                   bboxes=r.bboxes,
                                   embeddings=self.mask_head.vector_embeddings(r.embeddings))
                      for r in results]
            metas = [s.metainfo for s in batch_data_samples]
            for sample, pan in zip(batch_data_samples,
                                   self.panoptic_head.predict(bases, things, metas,
                                                                     rescale)):
                sample.pred_panoptic_seg = pan
        return self.add_pred_to_datasample(batch_data_samples, drop_embeddings(results))
