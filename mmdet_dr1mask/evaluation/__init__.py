"""Evaluation: MMDetection's COCO instance and panoptic metrics with their edge cases
(no detection at all, foreign image ids, labels outside the classes) handled."""
from .checked_metrics import CheckedCocoMetric, CheckedCocoPanopticMetric, ResultsCOCO

__all__ = ['CheckedCocoMetric', 'CheckedCocoPanopticMetric', 'ResultsCOCO']
