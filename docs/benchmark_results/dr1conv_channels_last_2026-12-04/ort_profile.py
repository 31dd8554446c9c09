"""Profile one exported graph in ONNX Runtime on a few photos (CPU, 2 threads).

Usage: python ort_profile.py CONFIG GRAPH.onnx IMAGE_DIR PREFIX [NUM_IMAGES]
Runs the graph on NUM_IMAGES (4) photos, the first as warm-up, with
``SessionOptions.enable_profiling``; prints the profile's path (PREFIX_*.json) for
``ort_profile_dr1conv.py``.
"""
import glob
import os.path as osp
import sys

import onnxruntime as ort
from mmdet.utils import register_all_modules
from mmengine.config import Config

import mmdet_dr1mask  # noqa: F401
from mmdet_dr1mask.deploy.ort_backend import OnnxRuntimeSegmentor, graph_inputs

register_all_modules()
config, graph, images, prefix = sys.argv[1:5]
num = int(sys.argv[5]) if len(sys.argv) > 5 else 4
segmentor = OnnxRuntimeSegmentor(graph, Config.fromfile(config),
                                 providers=['CPUExecutionProvider'], threads=2)
paths = sorted(glob.glob(osp.join(images, '*.jpg')))[:num]
feeds = [graph_inputs(segmentor.preprocessor(segmentor.prepare(p), False))[0]
         for p in paths]
options = ort.SessionOptions()
options.intra_op_num_threads = 2
options.enable_profiling = True
options.profile_file_prefix = prefix
session = ort.InferenceSession(graph, options, providers=['CPUExecutionProvider'])
for feed in feeds:
    session.run(None, feed)
print(session.end_profiling())
