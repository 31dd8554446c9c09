"""Run an exported DR1Mask/BlendMask graph with ONNX Runtime and get MMDetection results.

The graph (``onnx_graph.py``) holds the network and all post-processing; what runs
outside it is MMDetection's own test pipeline (load, resize) and ``DetDataPreprocessor``
(normalise, pad), built from the model's config exactly as the PyTorch path builds them,
so the two paths see the same input tensor. Results come back as ``DetDataSample`` with
``pred_instances`` (``bboxes``, ``scores``, ``labels``, ``masks``) and, for panoptic
graphs, ``pred_panoptic_seg``: what ``model.test_step`` returns.
"""
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmdet.registry import DATASETS, MODELS
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.structures import InstanceData, PixelData

from ..support.recipes import inference_pipeline

CPU_PROVIDER = 'CPUExecutionProvider'
CUDA_PROVIDER = 'CUDAExecutionProvider'


def dataset_meta(cfg: Config) -> dict:
    """Class names and palette of the config's test dataset (what a checkpoint would carry
    as ``dataset_meta``): the dataset class's ``METAINFO`` updated by the config's
    ``metainfo``."""
    dataset = cfg.test_dataloader.dataset
    while 'dataset' in dataset:  # wrappers (e.g. ConcatDataset, RepeatDataset)
        dataset = dataset.dataset
    meta = dict(getattr(DATASETS.get(dataset.type), 'METAINFO', {}))
    meta.update(dataset.get('metainfo') or {})
    return meta


def default_providers() -> List[str]:
    """CUDA first when this onnxruntime build has it, then CPU."""
    import onnxruntime as ort
    available = ort.get_available_providers()
    return [p for p in (CUDA_PROVIDER, CPU_PROVIDER) if p in available]


def prepare(pipeline: Callable, img_path: str, img_id: int = 0) -> dict:
    """One image through a test pipeline, collated as a batch of one."""
    return pseudo_collate([pipeline(dict(img_path=img_path, img_id=img_id))])


def graph_inputs(batch: dict) -> Tuple[Dict[str, np.ndarray], dict]:
    """The graph's inputs from one preprocessed image (``DetDataPreprocessor`` output).

    Returns:
        ``img`` (1, 3, H_p, W_p) float32, ``img_shape`` and ``ori_shape`` (2,) int64,
        and the image's meta information.
    """
    meta = batch['data_samples'][0].metainfo
    return dict(img=batch['inputs'].float().cpu().numpy(),
                img_shape=np.asarray(meta['img_shape'][:2], dtype=np.int64),
                ori_shape=np.asarray(meta['ori_shape'][:2], dtype=np.int64)), meta


def to_data_sample(outputs: Dict[str, np.ndarray], meta: dict) -> DetDataSample:
    """Graph outputs -> ``DetDataSample`` as ``model.test_step`` gives it."""
    sample = DetDataSample(metainfo=meta)
    sample.pred_instances = InstanceData(
        bboxes=torch.from_numpy(outputs['boxes']), scores=torch.from_numpy(outputs['scores']),
        labels=torch.from_numpy(outputs['labels']), masks=torch.from_numpy(outputs['masks']))
    if 'panoptic' in outputs:
        sample.pred_panoptic_seg = PixelData(
            sem_seg=torch.from_numpy(outputs['panoptic'])[None].int())
    return sample


class OnnxRuntimeSegmentor:
    """An exported graph in an ONNX Runtime session, fed by the config's test pipeline.

    Args:
        onnx_file: the graph written by ``tools/deployment/export_onnx.py``.
        cfg: the config it was exported from (pipeline and data preprocessor).
        providers: ONNX Runtime execution providers; CUDA when available, else CPU.
        resize: (W, H) replacing every ``Resize`` scale of the test pipeline.
        threads: intra-op threads (0: ONNX Runtime's default, all cores).
        allow_spinning: let idle ONNX Runtime threads spin-wait for the next run (its
            default, lowest latency alone); off when it shares the cores with another
            framework, e.g. interleaved with PyTorch in the benchmark, where the spinning
            threads would take the other's CPU time.
    """

    def __init__(self, onnx_file: str, cfg: Config, providers: Optional[Sequence[str]] = None,
                 resize: Optional[Sequence[int]] = None, threads: int = 0,
                 allow_spinning: bool = True) -> None:
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.add_session_config_entry('session.intra_op.allow_spinning',
                                         str(int(allow_spinning)))
        self.session = ort.InferenceSession(onnx_file, options,
                                            providers=list(providers or default_providers()))
        self.output_names = [o.name for o in self.session.get_outputs()]
        self.pipeline = inference_pipeline(cfg, resize)
        self.preprocessor = MODELS.build(cfg.model.data_preprocessor)
        self.dataset_meta = dataset_meta(cfg)

    def prepare(self, img_path: str, img_id: int = 0) -> dict:
        """One image through the test pipeline (what the benchmark caches)."""
        return prepare(self.pipeline, img_path, img_id)

    def test_step(self, data: dict) -> List[DetDataSample]:
        """Like ``model.test_step``: normalise and pad, run the graph, wrap the outputs."""
        with torch.no_grad():
            batch = self.preprocessor(data, False)
        if len(batch['data_samples']) != 1:
            raise ValueError('the exported graph takes one image at a time, got a batch of '
                             f'{len(batch["data_samples"])}')
        feeds, meta = graph_inputs(batch)
        outputs = dict(zip(self.output_names, self.session.run(self.output_names, feeds)))
        return [to_data_sample(outputs, meta)]

    def __call__(self, img_path: str) -> DetDataSample:
        return self.test_step(self.prepare(img_path))[0]
