"""K-Net's iterative kernel update (K-Net Sec. 3.2-3.4; ``KernelIterHead`` of
github.com/ZwwWayne/K-Net, knet/det/kernel_iter_head.py).

S :class:`KernelUpdateHead` stages refine the kernels and masks in turn
(S = 3 in the official "K-Net-s3" models). Masks live at the feature map's
stride (8) and are up-sampled ×2 for matching, losses and inference.

Training: as in the official code, the kernels of stage s are matched to the
instances by the *previous* stage's (detached) masks and class scores (stage 0:
the initial masks, no class cost), and stage s's outputs are supervised by that
matching; losses ``s{s}.loss_*`` weighted by ``stage_loss_weights``. Panoptic:
stuff kernel ``i`` always predicts stuff class ``i``; thing kernels are not
scored on stuff classes.

Inference: instance segmentation takes the ``max_per_img`` best (kernel, thing
class) scores (no NMS); masks are the sigmoid of the mask logits resized to the
image and thresholded at ``mask_thr``; boxes are the masks' bounding boxes.
Panoptic segmentation merges all kernels (``kernel_panoptic_merge.py``).

Deviations from the official implementation: matching uses MMDetection's
``HungarianAssigner`` with its ``FocalLossCost`` and ``DiceCost`` and the official
mask cost (:class:`MaskAgreementCost`) instead of ``MaskHungarianAssigner``; an optional
``score_thr`` on instance scores (0, i.e. none, as official); boxes are derived
from masks (the official results have empty boxes).
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmdet.registry import MODELS, TASK_UTILS
from mmdet.structures.mask import mask2bbox
from mmdet.utils import ConfigType, InstanceList, OptMultiConfig
from mmengine.model import BaseModule, ModuleList
from mmengine.structures import InstanceData, PixelData
from torch import Tensor

from .kernel_panoptic_merge import kernel_scores, merge_stuff_thing
from .kernel_targets import match_kernels, stuff_kernel_targets

StageOutput = Tuple[Tensor, Tensor, Tensor]  # class logits, masks, kernels


@MODELS.register_module()
class KernelIterHead(BaseModule):
    """S kernel update stages with their training targets and inference.

    Args:
        num_stages (int): Number S of update stages. Defaults to 3.
        stage_loss_weights (Sequence[float]): Loss weight of each stage.
            Defaults to (1, 1, 1).
        num_proposals (int): Number N of thing kernels. Defaults to 100.
        num_thing_classes (int): Defaults to 80.
        num_stuff_classes (int): 0 for instance segmentation, else the stuff
            kernels follow the N thing kernels. Defaults to 0.
        mask_upsample_ratio (int): Up-sampling of masks for matching, losses and
            inference (stride 8 -> 4). Defaults to 2.
        update_head (dict | list[dict]): :class:`KernelUpdateHead` config, one for
            all stages or one per stage.
        assigner (dict): ``HungarianAssigner`` with class and mask costs.
        max_per_img (int): Instances kept per image. Defaults to 100.
        score_thr (float): Minimum instance score. Defaults to 0.0.
        mask_thr (float): Threshold of mask probabilities: instance masks and, in the
            panoptic merge, a kernel's own mask. Defaults to 0.5.
        overlap_thr (float): Panoptic: kept fraction of a mask. Defaults to 0.6.
        instance_score_thr (float): Panoptic: thing score. Defaults to 0.3.
        stuff_score_thr (float, optional): Panoptic: if set, minimum stuff score.
            Defaults to None (off, as in the official merge).
        stuff_max_area (int, optional): Panoptic: if set, minimum stuff area.
            Defaults to None (off, as in the official merge).
        init_cfg (dict | None): Defaults to None.
    """

    def __init__(self,
                 num_stages: int = 3,
                 stage_loss_weights: Sequence[float] = (1, 1, 1),
                 num_proposals: int = 100,
                 num_thing_classes: int = 80,
                 num_stuff_classes: int = 0,
                 mask_upsample_ratio: int = 2,
                 update_head: Union[ConfigType, List[ConfigType]] = dict(
                     type='KernelUpdateHead'),
                 assigner: ConfigType = dict(
                     type='HungarianAssigner',
                     match_costs=[dict(type='FocalLossCost', weight=2.0),
                                  dict(type='MaskAgreementCost', weight=1.0),
                                  dict(type='DiceCost', weight=4.0, pred_act=True,
                                       naive_dice=False)]),
                 max_per_img: int = 100,
                 score_thr: float = 0.0,
                 mask_thr: float = 0.5,
                 overlap_thr: float = 0.6,
                 instance_score_thr: float = 0.3,
                 stuff_score_thr: Optional[float] = None,
                 stuff_max_area: Optional[int] = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg)
        if len(stage_loss_weights) != num_stages:
            raise ValueError(f'iter_head.stage_loss_weights has {len(stage_loss_weights)} '
                             f'weights for num_stages={num_stages}')
        self.stage_loss_weights = stage_loss_weights
        self.num_proposals = num_proposals
        self.num_thing_classes = num_thing_classes
        self.num_stuff_classes = num_stuff_classes
        self.num_classes = num_thing_classes + num_stuff_classes
        self.mask_upsample_ratio = mask_upsample_ratio
        heads = update_head if isinstance(update_head, list) else [update_head] * num_stages
        if len(heads) != num_stages:
            raise ValueError(f'iter_head.update_head lists {len(heads)} heads for '
                             f'num_stages={num_stages}')
        self.stages = ModuleList(MODELS.build(h) for h in heads)
        for s, stage in enumerate(self.stages):
            if stage.num_classes != self.num_classes:
                raise ValueError(
                    f'iter_head.update_head (stage {s}) num_classes={stage.num_classes} must be '
                    f'num_thing_classes + num_stuff_classes = {self.num_classes}')
        self.assigner = TASK_UTILS.build(assigner)
        self.max_per_img, self.score_thr, self.mask_thr = max_per_img, score_thr, mask_thr
        self.overlap_thr, self.instance_score_thr = overlap_thr, instance_score_thr
        self.stuff_score_thr, self.stuff_max_area = stuff_score_thr, stuff_max_area

    def upsample(self, masks: Tensor) -> Tensor:
        """(B, K, h, w) -> (B, K, h * r, w * r) bilinear, r = ``mask_upsample_ratio``."""
        return F.interpolate(masks, scale_factor=self.mask_upsample_ratio, mode='bilinear',
                             align_corners=False)

    def forward(self, feats: Tensor, kernels: Tensor, masks: Tensor) -> List[StageOutput]:
        """Run every stage on (B, C, h, w) features, (B, K, C) kernels and (B, K, h, w)
        masks; returns each stage's class logits, masks and kernels."""
        outputs = []
        for stage in self.stages:
            outputs.append(stage(feats, kernels, masks))
            _, masks, kernels = outputs[-1]
        return outputs

    def loss(self, feats: Tensor, kernels: Tensor, masks: Tensor, things: List[InstanceData],
             stuff: Optional[List[InstanceData]]) -> Dict[str, Tensor]:
        """Losses of all stages.

        Args:
            feats, kernels, masks (Tensor): the state of ``KNetKernelInitHead``.
            things (list[InstanceData]): per image ``labels`` and ``masks`` at the
                target stride (``gt_masks_at_stride``).
            stuff (list[InstanceData] | None): the same for stuff classes.

        Returns:
            dict[str, Tensor]: ``s{s}.loss_cls``, ``s{s}.loss_mask``,
            ``s{s}.loss_dice`` (and ``s{s}.loss_rank``) for every stage s.
        """
        prev_masks, prev_cls = self.upsample(masks).detach(), None
        losses = {}
        for s, (stage, (cls_logits, stage_masks, _)) in enumerate(
                zip(self.stages, self.forward(feats, kernels, masks))):
            scaled = self.upsample(stage_masks)  # (B, K, H, W)
            targets = self.targets(prev_masks, prev_cls, things, stuff)
            for key, value in stage.loss(cls_logits, scaled, *targets).items():
                losses[f's{s}.{key}'] = value * self.stage_loss_weights[s]
            prev_masks, prev_cls = scaled.detach(), cls_logits.detach()
        return losses

    def targets(self, prev_masks: Tensor, prev_cls: Optional[Tensor],
                things: List[InstanceData], stuff: Optional[List[InstanceData]]
                ) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """Match the thing kernels by the previous predictions and add stuff targets.

        Args:
            prev_masks (Tensor): (B, K, H, W) mask logits used for matching.
            prev_cls (Tensor | None): (B, K, num_classes) logits, None for stage 0.
            things, stuff: as in :meth:`loss`.

        Returns:
            tuple[Tensor, Tensor, Tensor, Tensor]: labels (B, K), label weights
            (B, K, num_classes), mask targets (B, K, H, W), matched (B, K) bool.
        """
        n, size = self.num_proposals, prev_masks.shape[-2:]
        batch = []
        for i, gt in enumerate(things):
            cls = None if prev_cls is None else prev_cls[i, :n, :self.num_thing_classes]
            labels, masks, pos = match_kernels(self.assigner, prev_masks[i, :n], cls, gt,
                                               self.num_classes)
            weights = prev_masks.new_ones((n, self.num_classes))
            weights[:, self.num_thing_classes:] = 0  # thing kernels: thing classes only
            if stuff is not None:
                extra = stuff_kernel_targets(stuff[i], self.num_thing_classes,
                                             self.num_stuff_classes, size)
                labels, weights, masks, pos = (torch.cat(pair) for pair in zip(
                    (labels, weights, masks, pos), extra))
            batch.append((labels, weights, masks, pos))
        return tuple(torch.stack(parts) for parts in zip(*batch))

    def predict(self, feats: Tensor, kernels: Tensor, masks: Tensor,
                batch_img_metas: List[dict], rescale: bool = True
                ) -> Tuple[InstanceList, Optional[List[PixelData]]]:
        """Instances (and, with stuff kernels, panoptic maps) of each image.

        Args:
            feats, kernels, masks (Tensor): the state of ``KNetKernelInitHead``.
            batch_img_metas (list[dict]): with ``batch_input_shape``,
                ``img_shape`` and ``ori_shape``.
            rescale (bool): Results at ``ori_shape`` (else at ``img_shape``).

        Returns:
            tuple: per image ``InstanceData`` (``scores``, ``labels``, ``masks``
            (n, H, W) bool, ``bboxes``), and per image ``PixelData(sem_seg=(1, H, W))``
            panoptic maps, or None without stuff kernels.
        """
        cls_logits, masks, _ = self.forward(feats, kernels, masks)[-1]
        scores, masks = cls_logits.sigmoid(), self.upsample(masks)
        instances, panoptic = [], [] if self.num_stuff_classes else None
        for img_scores, img_masks, meta in zip(scores, masks, batch_img_metas):
            probs = self.mask_probs(img_masks, meta, rescale)  # (K, H, W), resized once
            instances.append(self.predict_instances(img_scores, probs))
            if panoptic is not None:
                panoptic.append(self.predict_panoptic(img_scores, probs))
        return instances, panoptic

    def predict_instances(self, scores: Tensor, probs: Tensor) -> InstanceData:
        """Top ``max_per_img`` (kernel, thing class) pairs of one image's (K, num_classes)
        scores; their masks are the kernels' (K, H, W) probabilities > ``mask_thr``."""
        thing_scores = scores[:self.num_proposals, :self.num_thing_classes]
        top, index = thing_scores.flatten().topk(min(self.max_per_img, thing_scores.numel()))
        keep = top > self.score_thr
        top, index = top[keep], index[keep]
        kernel, labels = index // self.num_thing_classes, index % self.num_thing_classes
        bin_masks = (probs[:self.num_proposals] > self.mask_thr)[kernel]  # (n, H, W)
        return InstanceData(scores=top, labels=labels, masks=bin_masks,
                            bboxes=mask2bbox(bin_masks))

    def predict_panoptic(self, scores: Tensor, probs: Tensor) -> PixelData:
        """The panoptic map of one image from all kernels' scores and probabilities."""
        kernel_score, labels = kernel_scores(scores, self.num_proposals,
                                             self.num_thing_classes)
        panoptic = merge_stuff_thing(
            probs, labels, kernel_score, self.num_thing_classes, self.num_classes,
            self.overlap_thr, self.instance_score_thr, self.stuff_score_thr,
            self.stuff_max_area, self.mask_thr)
        return PixelData(sem_seg=panoptic[None])

    @staticmethod
    def mask_probs(masks: Tensor, meta: dict, rescale: bool) -> Tensor:
        """(n, h, w) mask logits -> (n, H, W) probabilities at the padded input size,
        cropped to ``img_shape``, resized to ``ori_shape`` if ``rescale``."""
        pad_h, pad_w = meta['batch_input_shape']
        h, w = meta['img_shape'][:2]
        probs = F.interpolate(masks[None].sigmoid(), (pad_h, pad_w), mode='bilinear',
                              align_corners=False)[..., :h, :w]
        if rescale:
            probs = F.interpolate(probs, meta['ori_shape'][:2], mode='bilinear',
                                  align_corners=False)
        return probs[0]
