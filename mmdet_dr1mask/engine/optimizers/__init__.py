from .checked_constructor import CheckedOptimWrapperConstructor

__all__ = ['CheckedOptimWrapperConstructor']
