"""Refuse to train or evaluate a model whose heads count a different number of classes than
the dataset."""
from typing import Iterator, Optional, Tuple

from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

# (things, stuff) attribute pairs of panoptic heads: ours and K-Net's spellings.
PANOPTIC_ATTRS = (('num_things_classes', 'num_stuff_classes'),
                  ('num_thing_classes', 'num_stuff_classes'))


def class_counts(model) -> Iterator[Tuple[str, str, int]]:
    """(config key, attribute, value) of every class count of ``model``'s modules."""
    if is_model_wrapper(model):
        model = model.module
    for name, module in model.named_modules():
        key = f'model.{name}' if name else 'model'
        for attr in ('num_classes', *{a for pair in PANOPTIC_ATTRS for a in pair}):
            value = getattr(module, attr, None)
            if isinstance(value, int) and not isinstance(value, bool):
                yield key, attr, value


@HOOKS.register_module()
class CheckNumClassesHook(Hook):
    """Checks the heads' class counts against the dataset's ``metainfo`` before training,
    validation and testing, naming the config key that disagrees.

    A mismatch otherwise trains silently (extra classes never seen, or labels
    past the classifier's end) or fails later deep in a loss. MMDetection's
    ``NumClassCheckHook`` asserts ``num_classes == len(classes)`` on every
    module, which panoptic models (thing heads, things + stuff heads) fail.

    The rule: with ``thing_classes`` and ``stuff_classes`` in ``metainfo``
    (panoptic), ``num_things_classes`` / ``num_thing_classes`` must be the
    number of things, ``num_stuff_classes`` the number of stuff classes and
    ``num_classes`` that of things (thing heads), of all classes (panoptic
    heads) or of stuff + 1 (Panoptic-FPN-style stuff heads with one "thing"
    class); otherwise (instances) ``num_classes`` and the things count must be
    ``len(classes)`` and the stuff count 0.

    Raises:
        ValueError: naming ``model.<module>.<attribute>``, its value, the
            dataset and its classes.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        self._check(runner.model, runner.train_dataloader.dataset)

    def before_val(self, runner) -> None:
        self._check(runner.model, runner.val_dataloader.dataset)

    def before_test(self, runner) -> None:
        self._check(runner.model, runner.test_dataloader.dataset)

    @staticmethod
    def _check(model, dataset) -> None:
        meta = getattr(dataset, 'metainfo', None) or {}
        classes: Optional[tuple] = meta.get('classes')
        if not classes:
            return  # nothing to check against
        things, stuff = meta.get('thing_classes'), meta.get('stuff_classes')
        panoptic = things is not None and stuff is not None
        n_things, n_stuff = (len(things), len(stuff)) if panoptic else (len(classes), 0)
        allowed = {'num_classes': {n_things, n_stuff + 1, len(classes)} if panoptic
                   else {len(classes)},
                   'num_things_classes': {n_things}, 'num_thing_classes': {n_things},
                   'num_stuff_classes': {n_stuff}}
        for key, attr, value in class_counts(model):
            if value not in allowed[attr]:
                expected = ' or '.join(str(n) for n in sorted(allowed[attr]))
                raise ValueError(
                    f'{key}.{attr}={value} does not match the dataset: '
                    f'{type(dataset).__name__}({getattr(dataset, "ann_file", "")}) has '
                    f'{len(classes)} classes'
                    + (f' {tuple(classes)}' if len(classes) <= 10 else '')
                    + (f' ({len(things)} things, {len(stuff)} stuff)' if panoptic else '')
                    + f'; expected {expected}')
