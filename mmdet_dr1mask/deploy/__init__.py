"""Deployment: DR1Mask and BlendMask as one ONNX graph with their post-processing, and an
ONNX Runtime backend that returns MMDetection results (docs/deployment.md)."""
from .onnx_graph import ExportableSegmentor, export_onnx
from .ort_backend import OnnxRuntimeSegmentor, default_providers

__all__ = ['ExportableSegmentor', 'export_onnx', 'OnnxRuntimeSegmentor', 'default_providers']
