"""BlenderHead: the three instance prediction modules (Table 4), loss, alignment, pasting."""
import numpy as np
import pytest
import torch
from mmdet.structures.mask import BitmapMasks, PolygonMasks
from mmengine.structures import InstanceData

from mmdet_dr1mask.models.mask_heads import BlenderHead
from mmdet_dr1mask.models.mask_heads.blender_attention import FactoredAttention, FullAttention

D = 8
VECTOR = dict(type='VectorAttention')
FULL = dict(type='FullAttention')
FACTORED = dict(type='FactoredAttention')


@pytest.mark.parametrize('kwargs,expected', [
    (dict(attention=VECTOR), D),
    (dict(attention=FULL), D * 4 + 4 * 14 * 14),
    (dict(attention=dict(FULL, use_projection=False), basis_channels=4), 4 * 14 * 14),  # BlendMask
    (dict(attention=FACTORED), D * 4 + 4 * 4),
])
def test_embedding_length_of_each_attention(kwargs, expected):
    head = BlenderHead(**{'basis_channels': D, **kwargs})
    assert head.embedding_channels == expected


@pytest.mark.parametrize('attention', [VECTOR, FULL, FACTORED])
def test_mask_logits_shape_and_gradients(attention):
    head = BlenderHead(basis_channels=D, attention=attention, roi_size=28)
    bases = torch.randn(2, D, 20, 24, requires_grad=True)
    rois = torch.tensor([[0, 4., 4, 60, 50], [1, 10, 20, 90, 70], [1, 0, 0, 95, 79]])
    emb = torch.randn(3, head.embedding_channels, requires_grad=True)
    logits = head(bases, rois, emb)
    assert logits.shape == (3, 28, 28)
    logits.square().sum().backward()
    assert bases.grad.abs().sum() > 0 and emb.grad.abs().sum() > 0
    for p in head.parameters():  # the factored U, V
        assert p.grad.abs().sum() > 0


def test_roi_align_runs_in_float32_for_a_half_precision_basis():
    """Under mixed precision the basis comes in FP16 and the boxes in FP32: mmcv's kernel
    wants one dtype, and FP16 box corners would be rounded (AdelaiDet aligns in FP32)."""
    head = BlenderHead(basis_channels=D, attention=VECTOR, roi_size=14)
    bases = torch.randn(1, D, 20, 24).half()
    rois = torch.tensor([[0, 4.3, 4.1, 60.7, 50.2], [0, 10.6, 20.4, 90.1, 70.9]])
    emb = torch.randn(2, D)
    logits = head(bases, rois, emb)
    assert logits.dtype == torch.float32
    torch.testing.assert_close(logits, head(bases.float(), rois, emb))


def test_vector_attention_is_a_channel_weighted_sum():
    head = BlenderHead(basis_channels=D, attention=VECTOR)
    crops = torch.randn(2, D, 56, 56)
    emb = torch.randn(2, D)
    torch.testing.assert_close(head.attention(crops, emb), (crops * emb[..., None, None]).sum(1))


def test_factored_attention_is_full_attention_with_a_rank_r_map():
    torch.manual_seed(0)
    factored = FactoredAttention(D, num_bases=4, attention_size=14, factor_rank=4)
    full = FullAttention(D, num_bases=4, attention_size=14)
    crops = torch.randn(3, D, 56, 56)
    emb = torch.randn(3, factored.embedding_channels)
    t, s = emb[:, :D * 4], emb[:, D * 4:].reshape(3, 4, 4)
    # Eq. 8: Q_k = U_k^T diag(s_k) V_k, written out per base
    q = torch.stack([torch.stack([factored.u[k].T @ torch.diag(s[p, k]) @ factored.v[k]
                                  for k in range(4)]) for p in range(3)])
    full_emb = torch.cat([t, q.flatten(1)], 1)
    torch.testing.assert_close(factored(crops, emb), full(crops, full_emb))


def test_crops_are_aligned_with_the_basis_grid():
    # basis pixel j sits on input pixel 4j: a basis holding 4j must give back the input
    # x pixel index of every sample point, x1 + (b + 0.5) (x2 - x1) / S - 0.5.
    head = BlenderHead(basis_channels=2, attention=VECTOR, roi_size=8)
    xs = 4.0 * torch.arange(30).float()
    bases = torch.stack([xs.expand(30, 30), xs[:, None].expand(30, 30)])[None]
    box = torch.tensor([[0, 10.0, 20.0, 70.0, 90.0]])
    crop_x = head(bases, box, torch.tensor([[1.0, 0.0]]))[0]
    crop_y = head(bases, box, torch.tensor([[0.0, 1.0]]))[0]
    b = torch.arange(8).float() + 0.5
    torch.testing.assert_close(crop_x[0], 10 + b * 60 / 8 - 0.5, atol=1e-4, rtol=0)
    torch.testing.assert_close(crop_y[:, 0], 20 + b * 70 / 8 - 0.5, atol=1e-4, rtol=0)


def gt_with_masks(boxes, size=(64, 64), polygons=False):
    h, w = size
    masks = np.zeros((len(boxes), h, w), np.uint8)
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        masks[i, y1:y2, x1:x2] = 1
    if polygons:
        mask_struct = PolygonMasks([[np.array([x1, y1, x2, y1, x2, y2, x1, y2], float)]
                                    for x1, y1, x2, y2 in boxes], h, w)
    else:
        mask_struct = BitmapMasks(masks, h, w)
    return InstanceData(bboxes=torch.tensor(boxes).float(), labels=torch.zeros(len(boxes)).long(),
                        masks=mask_struct)


def positives_for(gt, n_per_gt, emb_dim):
    inds = torch.arange(len(gt)).repeat_interleave(n_per_gt)
    return InstanceData(gt_inds=inds, labels=gt.labels[inds], bboxes=gt.bboxes[inds],
                        centerness_targets=torch.rand(len(inds)) * 0.5 + 0.5,
                        embeddings=torch.randn(len(inds), emb_dim, requires_grad=True))


@pytest.mark.parametrize('polygons', [False, True])
def test_loss_is_positive_with_positives_and_zero_without(polygons):
    head = BlenderHead(basis_channels=D, attention=FACTORED, roi_size=14)
    gt = gt_with_masks([(4, 4, 30, 40), (20, 10, 60, 50)], polygons=polygons)
    bases = torch.randn(2, D, 16, 16, requires_grad=True)
    pos = positives_for(gt, 3, head.embedding_channels)
    loss = head.loss(bases, [pos, pos[:0]], [gt, gt])['loss_mask']
    assert torch.isfinite(loss) and loss > 0
    loss.backward()
    assert pos.embeddings.grad.abs().sum() > 0
    empty = head.loss(bases, [pos[:0], pos[:0]], [gt, gt])['loss_mask']
    assert empty == 0
    empty.backward()  # connected to the graph


def test_positives_are_capped_per_image():
    head = BlenderHead(basis_channels=D, attention=VECTOR, roi_size=14, max_pos_per_img=4)
    seen = []
    head.roi_align.register_forward_hook(lambda m, inp, out: seen.append(len(inp[1])))
    gt = gt_with_masks([(4, 4, 30, 40)])
    pos = positives_for(gt, 10, D)
    head.loss(torch.randn(2, D, 16, 16), [pos, pos], [gt, gt])
    assert seen == [8]


@pytest.mark.parametrize('rescale', [True, False])
def test_predict_pastes_full_image_boolean_masks(rescale):
    head = BlenderHead(basis_channels=D, attention=VECTOR)
    meta = dict(img_shape=(64, 80), ori_shape=(32, 40), scale_factor=(2.0, 2.0))
    dets = InstanceData(bboxes=torch.tensor([[8., 8, 40, 48], [0, 0, 80, 64]]),
                        scores=torch.tensor([0.9, 0.5]), labels=torch.tensor([0, 1]),
                        embeddings=torch.randn(2, D))
    empty = dets[:0]
    out, out_empty = head.predict(torch.randn(2, D, 16, 20), [dets, empty], [meta, meta],
                                  rescale=rescale)
    h, w = (32, 40) if rescale else (64, 80)
    assert out.masks.shape == (2, h, w) and out.masks.dtype == torch.bool
    assert out_empty.masks.shape == (0, h, w) and out_empty.masks.dtype == torch.bool
    expected_box = dets.bboxes[0] / (2.0 if rescale else 1.0)
    torch.testing.assert_close(out.bboxes[0], expected_box)
    # nothing is pasted outside a box
    x1, y1, x2, y2 = expected_box.long().tolist()
    outside = out.masks[0].clone()
    outside[y1:y2 + 1, x1:x2 + 1] = False
    assert not outside.any()


def test_bad_settings_are_rejected():
    with pytest.raises(KeyError, match='SpatialAttention'):
        BlenderHead(attention=dict(type='SpatialAttention'))
    with pytest.raises(ValueError, match='basis_channels == num_bases'):
        BlenderHead(basis_channels=32, attention=dict(FULL, use_projection=False))


def test_attention_is_a_registered_module_built_from_its_config():
    head = BlenderHead(basis_channels=D, attention=dict(FACTORED, factor_rank=2))
    assert isinstance(head.attention, FactoredAttention)
    assert head.attention.basis_channels == D and head.attention.factor_rank == 2


@pytest.mark.parametrize('attention', [
    dict(VECTOR, num_bases=4),  # an argument of the other modules
    dict(FULL, factor_rank=4),  # factored attention's argument
])
def test_attention_argument_the_module_does_not_take_is_an_error(attention):
    with pytest.raises(TypeError, match='unexpected keyword'):
        BlenderHead(basis_channels=D, attention=attention)


def test_attention_is_given_as_a_config_and_takes_d_from_the_head():
    with pytest.raises(TypeError, match='mask_head.attention must be a config dict'):
        BlenderHead(attention='factored')
    with pytest.raises(ValueError, match='mask_head.attention.basis_channels=16'):
        BlenderHead(basis_channels=D, attention=dict(VECTOR, basis_channels=16))
    with pytest.raises(ValueError, match='max_pos_per_img'):
        BlenderHead(max_pos_per_img=0)
