"""Top-down + bottom-up instance segmentation wired as in DR1Mask's Fig. 2.

backbone → FPN → dense head (boxes, embeddings, contexts) → basis (F) →
blender (masks), plus an optional auxiliary semantic head. DR1Mask and
BlendMask are both this wiring with different parts.
"""
from typing import Dict, List, Optional, Tuple

from mmdet.models.detectors import SingleStageDetector
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.utils import ConfigType, InstanceList, OptConfigType, OptMultiConfig
from torch import Tensor

from ...support.finite_losses import FiniteLossesMixin


class BlenderSegmentor(FiniteLossesMixin, SingleStageDetector):
    """Dense head + basis + blender (+ auxiliary semantic head).

    Not registered: DR1Mask and BlendMask define ``loss`` and ``predict`` from
    ``instance_losses`` and ``predict_instances``, adding their panoptic branches.

    Each width is stated once, where it is made, and passed to the parts that
    read it: the basis width (D, ``basis_head.out_channels``) to
    ``mask_head.basis_channels`` and, for a semantic head on the basis,
    ``semantic_head.in_channels``; the context width of the basis and the
    embedding length of the blender to the dense head's ``context_channels`` and
    ``embedding_channels``. A config that gives one of these keys must give the
    same value (else ``ValueError`` naming the key).

    Args:
        backbone, neck: as in MMDetection.
        bbox_head: ``DR1FCOSHead`` config.
        basis_head: ``DR1Basis`` or ``BlendMaskBasis`` config.
        mask_head: ``BlenderHead`` config.
        semantic_head: optional ``ThingSemanticHead`` config (auxiliary loss).
        instance_start_level: the first neck output the instance branch (dense
            head, basis, semantic head) reads: 0 when the FPN starts at P3; 1 when
            it also outputs P2 for a panoptic branch (BlendMask panoptic), so that
            the FCOS head keeps P3–P7.
        train_cfg, test_cfg, data_preprocessor, init_cfg: as in MMDetection.
    """

    def __init__(self,
                 backbone: ConfigType,
                 neck: ConfigType,
                 bbox_head: ConfigType,
                 basis_head: ConfigType,
                 mask_head: ConfigType,
                 semantic_head: OptConfigType = None,
                 instance_start_level: int = 0,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        basis = MODELS.build(basis_head)
        blender = MODELS.build(
            with_width(mask_head, 'mask_head', 'basis_channels', basis.out_channels))
        bbox_head = with_width(bbox_head, 'bbox_head', 'context_channels',
                               basis.context_channels)
        bbox_head = with_width(bbox_head, 'bbox_head', 'embedding_channels',
                               blender.embedding_channels)
        # ThingSemanticHead reads the basis unless its config says input='fpn'
        if semantic_head and semantic_head.get('input', 'basis') == 'basis':
            semantic_head = with_width(semantic_head, 'semantic_head', 'in_channels',
                                       basis.out_channels)
        super().__init__(backbone=backbone, neck=neck, bbox_head=bbox_head, train_cfg=train_cfg,
                         test_cfg=test_cfg, data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.basis_head = basis
        self.mask_head = blender
        self.semantic_head = MODELS.build(semantic_head) if semantic_head else None
        self.instance_start_level = instance_start_level

    def basis_size(self, batch_inputs: Tensor) -> List[int]:
        """(H, W) of the basis: the padded input size over the basis stride, rounded up."""
        stride = self.mask_head.basis_stride
        return [-(-s // stride) for s in batch_inputs.shape[-2:]]

    def instance_losses(self, batch_inputs: Tensor, batch_data_samples: SampleList
                        ) -> Tuple[Dict[str, Tensor], Tuple[Tensor], InstanceList, Tensor]:
        """Detection, mask and auxiliary semantic losses.

        Returns:
            losses, all the neck's outputs, the positives of each image (see
            ``DR1FCOSHead.loss_and_positives``) and the basis F, for subclasses that
            add a panoptic branch.
        """
        feats = self.extract_feat(batch_inputs)
        x = feats[self.instance_start_level:]
        losses, positives, contexts = self.bbox_head.loss_and_positives(x, batch_data_samples)
        bases = self.basis_head(x, contexts, self.basis_size(batch_inputs))
        gts = [s.gt_instances for s in batch_data_samples]
        losses.update(self.mask_head.loss(bases, positives, gts))
        if self.semantic_head is not None:
            feat = bases if self.semantic_head.input == 'basis' else x[0]
            ignored = [s.ignored_instances if 'ignored_instances' in s else None
                       for s in batch_data_samples]
            losses.update(self.semantic_head.loss(feat, gts, [s.metainfo for s in
                                                              batch_data_samples], ignored))
        return losses, feats, positives, bases

    def predict_instances(self, batch_inputs: Tensor, batch_data_samples: SampleList,
                          rescale: bool = True
                          ) -> Tuple[InstanceList, Tuple[Tensor], Tensor]:
        """Detections with masks and embeddings, all the neck's outputs and the basis F."""
        feats = self.extract_feat(batch_inputs)
        x = feats[self.instance_start_level:]
        results, contexts = self.bbox_head.predict_with_embeddings(x, batch_data_samples,
                                                                  rescale=False)
        bases = self.basis_head(x, contexts, self.basis_size(batch_inputs))
        metas = [s.metainfo for s in batch_data_samples]
        return self.mask_head.predict(bases, results, metas, rescale=rescale), feats, bases

    def _forward(self, batch_inputs: Tensor,
                 batch_data_samples: Optional[SampleList] = None) -> Tuple:
        """Raw outputs without post-processing or ground truth (``mode='tensor'``).

        Returns:
            (cls_scores, bbox_preds, centernesses, contexts, embeddings, bases):
            the dense head's per-level lists and the basis F.
        """
        x = self.extract_feat(batch_inputs)[self.instance_start_level:]
        head_outs = self.bbox_head(x)
        bases = self.basis_head(x, head_outs[3], self.basis_size(batch_inputs))
        return (*head_outs, bases)


def with_width(cfg: ConfigType, name: str, key: str, width: int) -> dict:
    """A copy of the ``name`` config with ``key`` set to ``width``, derived from another part.

    Raises:
        ValueError: the config states another value for ``key``.
    """
    cfg = dict(cfg)
    if cfg.setdefault(key, width) != width:
        raise ValueError(f'{name}.{key}={cfg[key]} does not match the {width} the model '
                         f'derives for it; leave {name}.{key} out of the config')
    return cfg


def drop_embeddings(results: InstanceList) -> InstanceList:
    """The instance results without the internal ``embeddings`` field."""
    for r in results:
        r.pop('embeddings', None)
    return results
