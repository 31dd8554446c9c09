from .loading import CheckedLoadImageFromFile, CheckedLoadPanopticAnnotations, jpeg_is_truncated

__all__ = ['CheckedLoadImageFromFile', 'CheckedLoadPanopticAnnotations', 'jpeg_is_truncated']
