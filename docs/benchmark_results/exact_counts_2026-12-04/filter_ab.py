"""Export the duplicate filter alone to ONNX, as the panoptic graph scripts it.

Usage: python filter_ab.py OUT.onnx (in the checkout whose filter is to be timed)
"""
import sys

import torch

from mmdet_dr1mask.models.seg_heads.dr1_panoptic_head import duplicate_things


class Filter(torch.nn.Module):

    def forward(self, masks, areas, candidates):
        return torch.jit.script(duplicate_things)(masks, areas, candidates, 0.5)


example = (torch.zeros(3, 6, 6, dtype=torch.bool), torch.ones(3), torch.ones(3, dtype=torch.bool))
torch.onnx.export(Filter(), example, sys.argv[1], dynamo=False, opset_version=17,
                  input_names=['masks', 'areas', 'candidates'],
                  dynamic_axes=dict(masks=[0, 1, 2], areas=[0], candidates=[0]))
