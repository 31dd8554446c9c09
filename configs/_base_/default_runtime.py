# MMDetection's runtime defaults, plus the import that registers this package.
_base_ = 'mmdet::_base_/default_runtime.py'
custom_imports = dict(imports=['mmdet_dr1mask'], allow_failed_imports=False)
