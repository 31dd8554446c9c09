from .recipes import IMAGE_EXTS, list_images, retarget_data_root, shorten_schedule

__all__ = ['IMAGE_EXTS', 'list_images', 'retarget_data_root', 'shorten_schedule']
