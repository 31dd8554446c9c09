"""The top-down branch of DR1Mask: FCOS with a top layer (paper Sec. 3.2.1, Eq. 5).

``{C_l, E_l} = Top(Tower(P_l))``: the top layer on each level's box-tower output
gives the context C_l = [A_l, B_l] (2·D channels, the dynamic factors of
DR1Basis) and the dense instance embedding E_l. Everything else is MMDetection's
FCOS (GN towers, center sampling, GIoU, centerness on the box tower, focal loss).

``loss`` and ``predict`` keep ``FCOSHead``'s contract (a dict of losses; per image
detections), so the head also serves in MMDetection's ``FCOS`` detector
(``configs/reuse``); ``loss_and_positives`` and ``predict_with_embeddings`` also
return what a basis and a blender need (positives, embeddings, contexts).

Deviations from MMDetection's ``FCOSHead`` and why:

* ``forward_single`` also returns C_l and E_l. FCOS's own method drops the
  tower features the top layer reads, so its 8 lines of box scaling are
  restated here.
* ``loss_by_feat`` also returns the positives the mask branch trains on (their
  GT boxes, GT indices, centerness targets and embeddings). FCOS assigns each
  point to a GT but keeps only the label; the GT index is recovered by running
  FCOS's own assignment (``_get_targets_single``) with negative GT indices as
  labels, so no assignment code is copied. Targets are flattened image-major
  (FCOS: level-major) so the positives split per image for free.
* ``predict_by_feat`` carries each detection's embedding through NMS.
* The top layer is two 3×3 convs, one for C_l and one for E_l (the same
  computation as one conv with 2·D + E outputs), so that Table 3 can move the
  context to the class tower or the FPN output while the embedding stays on
  the box tower, as the paper's ablation does.
* The context conv starts with zero weights and bias 1, so A = B = 1 exactly
  and the network starts as the vanilla basis (Table 1 baseline). With
  N(0, 0.01) weights, as for the embedding conv, A and B would start at
  1 ± ~0.5 for 256 tower channels.
* Inference follows AdelaiDet's FCOS as BlendMask configures it
  (``adet/modeling/fcos/fcos_outputs.py``, ``Base-BlendMask.yaml``): the
  score threshold and the per-level top-k are taken on cls·ctr
  (``THRESH_WITH_CTR: True``; FCOSHead: on cls) and the reported score is
  sqrt(cls·ctr) (FCOSHead: cls·ctr), so that thresholds copied from upstream
  (e.g. panoptic fusion's 0.45) mean what they mean there. The square root
  keeps the order of the scores, so box and mask AP do not change.
* No learnable ``Scale`` per level by default (``USE_SCALE: False``); the box
  regression is exp-free (``norm_on_bbox``) in both.
"""
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmcv.cnn import Scale
from mmdet.models.dense_heads import FCOSHead
from mmdet.models.dense_heads.anchor_free_head import AnchorFreeHead
from mmdet.models.utils import filter_scores_and_topk, select_single_mlvl
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.utils import InstanceList, OptInstanceList, reduce_mean
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData
from torch import Tensor, nn

TOP_INPUTS = ('box_tower', 'class_tower', 'fpn')


@MODELS.register_module()
class DR1FCOSHead(FCOSHead):
    """FCOS head whose top layer also outputs contexts C_l and embeddings E_l (Eq. 5).

    Args:
        context_channels: channels of C_l (2·D for DR1Basis; 0 for no context,
            e.g. BlendMask).
        embedding_channels: E, length of the per-location instance embedding
            (set by the blender, see ``BlenderHead.embedding_channels``); 0 for
            none, a box detector alone (e.g. in MMDetection's ``FCOS``).
        top_input: where the context conv reads (Table 3): ``'box_tower'``
            (default), ``'class_tower'`` or ``'fpn'`` (the FPN output); the
            embedding conv always reads the box tower.
        top_kernel_size: kernel of the top layer conv.
        use_scale: a learnable scale on each level's box regression (MMDetection's
            FCOS); AdelaiDet's BlendMask has none (``USE_SCALE: False``).
        thresh_with_ctr: apply ``test_cfg.score_thr`` and ``nms_pre`` to cls·ctr
            (AdelaiDet's ``THRESH_WITH_CTR: True`` for BlendMask) instead of cls.
        *args, **kwargs: :class:`mmdet.models.dense_heads.FCOSHead` arguments.
    """

    def __init__(self, *args, context_channels: int = 64, embedding_channels: int = 32,
                 top_input: str = 'box_tower', top_kernel_size: int = 3,
                 use_scale: bool = False, thresh_with_ctr: bool = True, **kwargs) -> None:
        if top_input not in TOP_INPUTS:
            raise ValueError(f'top_input must be one of {TOP_INPUTS}, got {top_input!r}')
        if context_channels < 0 or embedding_channels < 0:
            raise ValueError('need context_channels >= 0 and embedding_channels >= 0, got '
                             f'{context_channels} and {embedding_channels}')
        self.context_channels = context_channels
        self.embedding_channels = embedding_channels
        self.top_input = top_input
        self.top_kernel_size = top_kernel_size
        self.use_scale = use_scale
        self.thresh_with_ctr = thresh_with_ctr
        super().__init__(*args, **kwargs)

    def _init_layers(self) -> None:
        super()._init_layers()
        if not self.use_scale:  # no parameter that nothing trains
            self.scales = nn.ModuleList(nn.Identity() for _ in self.strides)
        k = self.top_kernel_size
        # no conv for an output of 0 channels: a parameter nothing trains fails DDP
        self.conv_embedding = nn.Conv2d(self.feat_channels, self.embedding_channels, k,
                                        padding=k // 2) if self.embedding_channels else None
        context_in = self.in_channels if self.top_input == 'fpn' else self.feat_channels
        self.conv_context = nn.Conv2d(context_in, self.context_channels, k, padding=k // 2) \
            if self.context_channels else None

    def init_weights(self) -> None:
        """FCOS init, then the top layer: embedding N(0, 0.01), context A = B = 1."""
        super().init_weights()
        if self.conv_embedding is not None:
            nn.init.normal_(self.conv_embedding.weight, std=0.01)
            nn.init.zeros_(self.conv_embedding.bias)
        if self.conv_context is not None:
            nn.init.zeros_(self.conv_context.weight)
            nn.init.ones_(self.conv_context.bias)

    # ------------------------------------------------------------------ forward
    def forward_single(self, x: Tensor, scale: Union[Scale, nn.Identity],
                       stride: int) -> Tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        """One FPN level.

        Args:
            x: (N, in_channels, H, W) FPN output P_l.
            scale: learnable scale of the box prediction (identity without
                ``use_scale``).
            stride: the level's stride.

        Returns:
            cls_score (N, num_classes, H, W), bbox_pred (N, 4, H, W),
            centerness (N, 1, H, W), context C_l (N, context_channels, H, W),
            embedding E_l (N, embedding_channels, H, W).
        """
        cls_score, bbox_pred, cls_feat, reg_feat = AnchorFreeHead.forward_single(self, x)
        centerness = self.conv_centerness(reg_feat if self.centerness_on_reg else cls_feat)
        bbox_pred = scale(bbox_pred).float()  # float: no overflow under FP16
        if self.norm_on_bbox:
            bbox_pred = bbox_pred.clamp(min=0)
            if not self.training:
                bbox_pred = bbox_pred * stride
        else:
            bbox_pred = bbox_pred.exp()
        empty = x.new_zeros((x.size(0), 0, *x.shape[-2:]))
        embedding = empty if self.conv_embedding is None else self.conv_embedding(reg_feat)
        if self.conv_context is None:  # no context (BlendMask): an empty map
            context = empty
        else:
            context = self.conv_context(
                {'box_tower': reg_feat, 'class_tower': cls_feat, 'fpn': x}[self.top_input])
        return cls_score, bbox_pred, centerness, context, embedding

    # --------------------------------------------------------------------- loss
    def loss(self, x: Tuple[Tensor], batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """FCOS's contract: the detection losses, so the head serves in MMDetection's
        ``FCOS`` detector too.

        Args:
            x: FPN levels P3..P7, each (N, in_channels, H_l, W_l).
            batch_data_samples: per image ``gt_instances`` and meta information.

        Returns:
            ``loss_cls``, ``loss_bbox``, ``loss_centerness``.
        """
        return self.loss_and_positives(x, batch_data_samples)[0]

    def loss_and_positives(self, x: Tuple[Tensor], batch_data_samples: SampleList
                           ) -> Tuple[Dict[str, Tensor], InstanceList, List[Tensor]]:
        """Detection losses, the positives of each image and the contexts (for the
        basis and the blender of DR1Mask and BlendMask).

        Returns:
            losses: ``loss_cls``, ``loss_bbox``, ``loss_centerness``.
            positives: per image, see :meth:`loss_by_feat`.
            contexts: C_3..C_7 for DR1Basis, each (N, context_channels, H_l, W_l).
        """
        cls_scores, bbox_preds, centernesses, contexts, embeddings = self(x)
        batch_gt_instances = [s.gt_instances for s in batch_data_samples]
        batch_img_metas = [s.metainfo for s in batch_data_samples]
        losses, positives = self.loss_by_feat(cls_scores, bbox_preds, centernesses, embeddings,
                                              batch_gt_instances, batch_img_metas)
        return losses, positives, contexts

    def loss_by_feat(self,
                     cls_scores: List[Tensor],
                     bbox_preds: List[Tensor],
                     centernesses: List[Tensor],
                     embeddings: List[Tensor],
                     batch_gt_instances: InstanceList,
                     batch_img_metas: List[dict],
                     batch_gt_instances_ignore: OptInstanceList = None
                     ) -> Tuple[Dict[str, Tensor], InstanceList]:
        """FCOS losses plus the positive locations of each image.

        Args:
            cls_scores, bbox_preds, centernesses, embeddings: per level,
                (N, C, H_l, W_l) with C = num_classes, 4, 1, E.
            batch_gt_instances: per image, ``bboxes`` (G, 4) and ``labels`` (G,).
            batch_img_metas: per image meta information.
            batch_gt_instances_ignore: unused, as in FCOS.

        Returns:
            losses: ``loss_cls``, ``loss_bbox``, ``loss_centerness``.
            positives: per image an ``InstanceData`` of the P positive locations:
            ``gt_inds`` (P,) index into that image's GT, ``labels`` (P,),
            ``bboxes`` (P, 4) their GT boxes, ``centerness_targets`` (P,),
            ``embeddings`` (P, E).
        """
        num_imgs = cls_scores[0].size(0)
        featmap_sizes = [s.shape[-2:] for s in cls_scores]
        device, dtype = bbox_preds[0].device, bbox_preds[0].dtype
        level_points = self.prior_generator.grid_priors(featmap_sizes, dtype=dtype,
                                                        device=device)
        labels, bbox_targets, gt_inds = self.get_targets_per_image(level_points,
                                                                   batch_gt_instances)

        def flatten(maps: List[Tensor]) -> Tensor:
            # per level (N, C, H, W) -> (N * sum_l H_l W_l, C), image-major; no -1 in a
            # reshape, so that C = 0 (no embedding) works
            return torch.cat([m.flatten(2).transpose(1, 2)
                              for m in maps], dim=1).flatten(0, 1)

        flat_cls = flatten(cls_scores)
        flat_bbox = flatten(bbox_preds)
        flat_ctr = flatten(centernesses).reshape(-1)
        flat_points = torch.cat(level_points).repeat(num_imgs, 1)
        labels, bbox_targets, gt_inds = torch.cat(labels), torch.cat(bbox_targets), \
            torch.cat(gt_inds)

        pos = ((labels >= 0) & (labels < self.num_classes)).nonzero().reshape(-1)
        num_pos = max(reduce_mean(torch.tensor(float(len(pos)), device=device)), 1.0)
        loss_cls = self.loss_cls(flat_cls, labels, avg_factor=num_pos)

        pos_bbox, pos_ctr, pos_targets = flat_bbox[pos], flat_ctr[pos], bbox_targets[pos]
        ctr_targets = self.centerness_target(pos_targets)
        # every rank joins this all-reduce, with or without positives: a rank skipping it
        # would pair its next collective with the others' (gloo aborts, NCCL hangs)
        ctr_denorm = max(reduce_mean(ctr_targets.sum().detach()), 1e-6)
        if len(pos) > 0:
            points = flat_points[pos]
            loss_bbox = self.loss_bbox(
                self.bbox_coder.decode(points, pos_bbox),
                self.bbox_coder.decode(points, pos_targets),
                weight=ctr_targets, avg_factor=ctr_denorm)
            loss_centerness = self.loss_centerness(pos_ctr, ctr_targets, avg_factor=num_pos)
        else:  # zero, but keeps the graph connected for distributed training
            loss_bbox, loss_centerness = pos_bbox.sum(), pos_ctr.sum()

        losses = dict(loss_cls=loss_cls, loss_bbox=loss_bbox, loss_centerness=loss_centerness)
        positives = self._split_positives(pos, num_imgs, len(flat_points) // num_imgs,
                                          labels, gt_inds, ctr_targets, flatten(embeddings),
                                          batch_gt_instances)
        return losses, positives

    def get_targets_per_image(self, level_points: List[Tensor],
                              batch_gt_instances: InstanceList
                              ) -> Tuple[List[Tensor], List[Tensor], List[Tensor]]:
        """FCOS targets of every image, levels concatenated, plus the GT index.

        Args:
            level_points: per level (H_l W_l, 2) point coordinates.
            batch_gt_instances: per image GT.

        Returns:
            per image: labels (M,) (``num_classes`` = background),
            bbox_targets (M, 4) (divided by the stride if ``norm_on_bbox``),
            gt_inds (M,) (-1 = background); M = sum_l H_l W_l.
        """
        points = torch.cat(level_points)
        num_per_level = [len(p) for p in level_points]
        regress_ranges = torch.cat([
            p.new_tensor(r)[None].expand(len(p), 2)
            for p, r in zip(level_points, self.regress_ranges)])
        strides = torch.cat([p.new_full((len(p),), float(s))
                             for p, s in zip(level_points, self.strides)])
        labels, bbox_targets, gt_inds = [], [], []
        for gt in batch_gt_instances:
            num_gts = len(gt)
            # FCOS picks one GT per point but returns only its label: label the GTs
            # -G..-1 so assigned points come back as gt_index - G, background as num_classes.
            indexed = InstanceData(bboxes=gt.bboxes, labels=torch.arange(
                num_gts, device=points.device) - num_gts)
            assigned, targets = self._get_targets_single(indexed, points, regress_ranges,
                                                         num_per_level)
            is_pos = assigned < 0
            inds = torch.where(is_pos, assigned + num_gts, assigned.new_tensor(-1))
            img_labels = torch.full_like(assigned, self.num_classes)
            img_labels[is_pos] = gt.labels[inds[is_pos]]
            if self.norm_on_bbox:
                targets = targets / strides[:, None]
            labels.append(img_labels)
            bbox_targets.append(targets)
            gt_inds.append(inds)
        return labels, bbox_targets, gt_inds

    @staticmethod
    def _split_positives(pos: Tensor, num_imgs: int, points_per_img: int, labels: Tensor,
                         gt_inds: Tensor, ctr_targets: Tensor, embeddings: Tensor,
                         batch_gt_instances: InstanceList) -> InstanceList:
        """Per image ``InstanceData`` of the positives (``pos`` indexes image-major points)."""
        img_of_pos = torch.div(pos, points_per_img, rounding_mode='floor')
        positives = []
        for img in range(num_imgs):
            keep = img_of_pos == img
            idx = pos[keep]
            inds = gt_inds[idx]
            positives.append(InstanceData(
                gt_inds=inds, labels=labels[idx],
                bboxes=batch_gt_instances[img].bboxes[inds],
                centerness_targets=ctr_targets[keep], embeddings=embeddings[idx]))
        return positives

    # ------------------------------------------------------------------ predict
    def predict(self, x: Tuple[Tensor], batch_data_samples: SampleList,
                rescale: bool = False) -> InstanceList:
        """FCOS's contract: the detections of each image.

        Args:
            x: FPN levels P3..P7, each (N, in_channels, H_l, W_l).
            batch_data_samples: per image meta information.
            rescale: boxes in the original image instead of the network input.

        Returns:
            per image ``InstanceData`` with ``bboxes`` (K, 4), ``scores`` (K,),
            ``labels`` (K,).
        """
        results = self.predict_with_embeddings(x, batch_data_samples, rescale)[0]
        for r in results:
            r.pop('embeddings')
        return results

    def predict_with_embeddings(self, x: Tuple[Tensor], batch_data_samples: SampleList,
                                rescale: bool = False) -> Tuple[InstanceList, List[Tensor]]:
        """Detections with their embeddings, and the contexts (for the basis and the
        blender of DR1Mask and BlendMask).

        Returns:
            results: per image ``InstanceData`` with ``bboxes`` (K, 4),
            ``scores`` (K,), ``labels`` (K,), ``embeddings`` (K, E).
            contexts: C_3..C_7 for DR1Basis.
        """
        cls_scores, bbox_preds, centernesses, contexts, embeddings = self(x)
        batch_img_metas = [s.metainfo for s in batch_data_samples]
        results = self.predict_by_feat(cls_scores, bbox_preds, centernesses, embeddings,
                                       batch_img_metas=batch_img_metas, rescale=rescale)
        return results, contexts

    def predict_by_feat(self,
                        cls_scores: List[Tensor],
                        bbox_preds: List[Tensor],
                        centernesses: List[Tensor],
                        embeddings: List[Tensor],
                        batch_img_metas: List[dict],
                        cfg: Optional[ConfigDict] = None,
                        rescale: bool = False,
                        with_nms: bool = True) -> InstanceList:
        """FCOS post-processing (score threshold, top-k, NMS) keeping embeddings.

        The score of a detection is sqrt(cls·ctr), as in AdelaiDet; threshold and
        top-k are on cls·ctr with ``thresh_with_ctr`` and on cls otherwise.

        Args:
            cls_scores, bbox_preds, centernesses, embeddings: per level
                (N, C, H_l, W_l) as from :meth:`forward`.
            batch_img_metas: per image meta information.
            cfg: test config, ``self.test_cfg`` if None.
            rescale: boxes in the original image instead of the network input.
            with_nms: apply NMS.
        """
        cfg = ConfigDict(self.test_cfg if cfg is None else cfg)
        featmap_sizes = [s.shape[-2:] for s in cls_scores]
        priors = self.prior_generator.grid_priors(
            featmap_sizes, dtype=cls_scores[0].dtype, device=cls_scores[0].device)
        results = []
        for img, meta in enumerate(batch_img_metas):
            levels = zip(*(select_single_mlvl(maps, img) for maps in
                           (cls_scores, bbox_preds, centernesses, embeddings)), priors)
            results.append(self._predict_single(levels, meta, cfg, rescale, with_nms))
        return results

    def _predict_single(self, levels, img_meta: dict, cfg: ConfigDict, rescale: bool,
                        with_nms: bool) -> InstanceData:
        bboxes, scores, labels, embeds = [], [], [], []
        nms_pre = cfg.get('nms_pre', -1)
        for cls_score, bbox_pred, centerness, embedding, level_priors in levels:
            score = cls_score.permute(1, 2, 0).reshape(-1, self.cls_out_channels).sigmoid()
            ctr = centerness.permute(1, 2, 0).reshape(-1, 1).sigmoid()
            if self.thresh_with_ctr:
                score = score * ctr
            # nms_pre <= 0 keeps every score above the threshold: MMDetection's filter
            # would cut at min(nms_pre, n) = nms_pre and so drop the lowest ones
            kept_scores, kept_labels, kept_inds, kept = filter_scores_and_topk(
                score, cfg.score_thr, nms_pre if nms_pre > 0 else score.numel(), dict(
                    bbox_pred=bbox_pred.permute(1, 2, 0).reshape(-1, 4),
                    priors=level_priors,
                    embedding=embedding.flatten(1).t()))  # (H_l W_l, E)
            if not self.thresh_with_ctr:
                kept_scores = kept_scores * ctr[kept_inds, 0]
            bboxes.append(self.bbox_coder.decode(kept['priors'], kept['bbox_pred'],
                                                 max_shape=img_meta['img_shape']))
            scores.append(kept_scores.sqrt())
            labels.append(kept_labels)
            embeds.append(kept['embedding'])
        # no score_factors: FCOSHead's post-processing would multiply them in again
        results = InstanceData(bboxes=torch.cat(bboxes), scores=torch.cat(scores),
                               labels=torch.cat(labels), embeddings=torch.cat(embeds))
        return self._bbox_post_process(results, cfg, rescale=rescale, with_nms=with_nms,
                                       img_meta=img_meta)
