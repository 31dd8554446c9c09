"""MMDetection's COCO instance and panoptic metrics, giving numbers or a clear error where
the upstream ones fail inside pycocotools or panopticapi, or give wrong numbers silently.

Measured with MMDetection 3.3 on the synthetic validation set
(``tests/evaluation/test_checked_metrics.py``):

* ``CocoMetric`` with no detection on any image: pycocotools' ``loadRes([])`` indexes
  the first result, MMDetection logs "The testing results of the whole dataset is
  empty" and returns no metric at all. Here the detections are evaluated as what they
  are, none: AP 0 (and -1 where the ground truth has no object, as COCO reports it).
* ``CocoMetric`` with predictions for an image id the annotation file lacks:
  ``AssertionError: Results do not correspond to current coco set`` from pycocotools.
* ``CocoPanopticMetric`` with a prediction for an image id the annotation file lacks:
  no error, the image's segments all count as false positives (PQ silently lower).
* ``CocoPanopticMetric`` with a label that is neither a class nor VOID:
  ``KeyError`` inside the metric's label-to-category map.

An image with no predicted segment, and classes that no prediction contains, already
give the right numbers upstream (their ground-truth segments count as misses); the
tests keep them so.
"""
import copy
import os.path as osp
import tempfile
from typing import List, Optional, Sequence

import numpy as np
from mmdet.datasets.api_wrappers import COCO
from mmdet.evaluation import CocoMetric, CocoPanopticMetric
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.registry import METRICS


class ResultsCOCO(COCO):
    """MMDetection's COCO api whose ``loadRes`` takes an empty result list and names
    result image ids the ground truth lacks (``source``: the annotation file's name)."""

    source: str = 'the ground truth'

    @classmethod
    def of(cls, coco: COCO, source: Optional[str] = None) -> 'ResultsCOCO':
        """``coco`` itself (its state shared, not copied) as a :class:`ResultsCOCO`."""
        if isinstance(coco, cls):
            return coco
        results_coco = cls.__new__(cls)
        results_coco.__dict__.update(coco.__dict__)
        if source is not None:
            results_coco.source = source
        return results_coco

    def loadRes(self, resFile):  # noqa: N802, N803  (pycocotools' names)
        """pycocotools' ``loadRes``; an empty list gives a result set with no annotation.

        Raises:
            ValueError: naming the result image ids that are not in the ground truth.
        """
        if not isinstance(resFile, list):
            return super().loadRes(resFile)
        unknown = sorted({ann['image_id'] for ann in resFile} - set(self.getImgIds()))
        if unknown:
            raise ValueError(
                f'{len(unknown)} image id(s) of the predictions are not in {self.source}: '
                f'{unknown[:10]}; are the evaluator and the dataset given the same '
                'annotation file?')
        if resFile:
            return super().loadRes(resFile)
        empty = COCO()
        empty.dataset = dict(images=list(self.dataset['images']),
                             categories=copy.deepcopy(self.dataset['categories']),
                             annotations=[])
        empty.createIndex()
        return empty


@METRICS.register_module()
class CheckedCocoMetric(CocoMetric):
    """:class:`mmdet.evaluation.CocoMetric` giving AP 0 when no image has a detection (not
    an empty result) and naming prediction image ids the annotation file lacks (not an
    ``AssertionError`` from pycocotools). Takes ``CocoMetric``'s arguments."""

    def __init__(self, ann_file: Optional[str] = None, **kwargs) -> None:
        super().__init__(ann_file=ann_file, **kwargs)
        if self._coco_api is not None:
            self._coco_api = ResultsCOCO.of(self._coco_api, ann_file)

    def compute_metrics(self, results: list) -> dict:
        if self._coco_api is None and results:
            # no ann_file: CocoMetric would build the ground truth from the results with
            # its own COCO class; built here the same way, with ours
            with tempfile.TemporaryDirectory() as tmp_dir:
                prefix = self.outfile_prefix or osp.join(tmp_dir, 'results')
                self._coco_api = ResultsCOCO.of(
                    COCO(self.gt_to_coco_json([gt for gt, _ in results], prefix)))
        return super().compute_metrics(results)


@METRICS.register_module()
class CheckedCocoPanopticMetric(CocoPanopticMetric):
    """:class:`mmdet.evaluation.CocoPanopticMetric` that checks each prediction before
    evaluating it. Takes ``CocoPanopticMetric``'s arguments.

    Raises:
        ValueError: naming the image, for a prediction of an image id the annotation
            file lacks or with a label that is neither a class nor VOID; naming the
            classes, when the dataset's classes are not all categories of the
            annotation file.
    """

    def __init__(self, ann_file: Optional[str] = None, **kwargs) -> None:
        super().__init__(ann_file=ann_file, **kwargs)
        self.ann_file = ann_file
        self._classes_checked = False

    def _check_classes(self) -> None:
        classes: List[str] = list(self.dataset_meta['classes'])
        names = {cat['name'] for cat in self._coco_api.cats.values()}
        missing = [name for name in classes if name not in names]
        if missing:
            raise ValueError(f"the dataset's classes {missing} are not categories of "
                             f'{self.ann_file} (its categories: {sorted(names)})')

    def _check_prediction(self, sample: dict) -> None:
        where = sample.get('img_path', f"image id {sample['img_id']}")
        if self._coco_api is not None and sample['img_id'] not in self._coco_api.imgs:
            raise ValueError(
                f"{where}: a prediction for image id {sample['img_id']}, which "
                f'{self.ann_file} does not have; are the evaluator and the dataset given '
                'the same annotation file?')
        pred = sample['pred_panoptic_seg']
        num_classes = len(self.dataset_meta['classes'])
        void = {num_classes, pred.get('ignore_index', num_classes)}
        labels = np.unique(pred['sem_seg'].cpu().numpy() % INSTANCE_OFFSET)
        bad = [int(label) for label in labels if label >= num_classes and label not in void]
        if bad:
            raise ValueError(f'{where}: the panoptic prediction has labels {bad}, neither '
                             f'one of the {num_classes} classes nor VOID ({num_classes})')

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        if self._coco_api is not None and not self._classes_checked:
            self._check_classes()
            self._classes_checked = True
        for sample in data_samples:
            self._check_prediction(sample)
        super().process(data_batch, data_samples)
