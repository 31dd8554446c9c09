from .panoptic import panoptic_map_from_gt

__all__ = ['panoptic_map_from_gt']
