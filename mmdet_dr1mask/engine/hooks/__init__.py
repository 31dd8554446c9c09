from .check_num_classes_hook import CheckNumClassesHook
from .progress_bar_hook import ProgressBarHook
from .random_state_hook import RandomStateHook

__all__ = ['CheckNumClassesHook', 'ProgressBarHook', 'RandomStateHook']
