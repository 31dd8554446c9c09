from .match_costs import MaskAgreementCost

__all__ = ['MaskAgreementCost']
