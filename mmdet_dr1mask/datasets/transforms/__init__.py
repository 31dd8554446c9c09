from .loading import (
    CheckedLoadAnnotations,
    CheckedLoadImageFromFile,
    CheckedLoadPanopticAnnotations,
    jpeg_is_truncated,
)

__all__ = ['CheckedLoadAnnotations', 'CheckedLoadImageFromFile',
           'CheckedLoadPanopticAnnotations', 'jpeg_is_truncated']
