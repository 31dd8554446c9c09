from .dr1_basis import DR1Basis

__all__ = ['DR1Basis']
