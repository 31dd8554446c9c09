"""Write the deterministic synthetic shapes dataset (COCO instances + panoptic).

Example::

    python tools/misc/generate_synthetic_dataset.py data/synthetic \
        --splits train:64 val:16 --img-size 192 256 --crowd-prob 0.2 --void-prob 0.2

See :mod:`mmdet_dr1mask.support.synthetic` for what is drawn and written.
"""
import argparse
from typing import List, Optional, Tuple

from mmdet_dr1mask.support import SyntheticConfig, generate_split


def parse_split(text: str) -> Tuple[str, int]:
    name, sep, count = text.partition(':')
    if not sep or not name or not count.isdigit():
        raise argparse.ArgumentTypeError(f'expected NAME:COUNT such as train:64, got {text!r}')
    return name, int(count)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out_dir', help='dataset root to write')
    parser.add_argument('--splits', nargs='+', type=parse_split, default=[('train', 64),
                                                                          ('val', 16)],
                        metavar='NAME:COUNT', help='splits and their image counts')
    parser.add_argument('--img-size', nargs=2, type=int, default=[192, 256],
                        metavar=('H', 'W'), help='image height and width')
    parser.add_argument('--size-jitter', type=float, default=0.0,
                        help='scale each side by a random factor in [1-j, 1+j]')
    parser.add_argument('--min-things', type=int, default=1)
    parser.add_argument('--max-things', type=int, default=6)
    parser.add_argument('--crowd-prob', type=float, default=0.0,
                        help='chance of one crowd region per image')
    parser.add_argument('--void-prob', type=float, default=0.0,
                        help='chance of one unlabelled (void) blob per image')
    parser.add_argument('--varied-instances', action='store_true',
                        help='every thing instance its own colour, pattern scale and '
                        'orientation (default: all instances of a class look alike)')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    cfg = SyntheticConfig(img_size=tuple(args.img_size), size_jitter=args.size_jitter,
                          min_things=args.min_things, max_things=args.max_things,
                          crowd_prob=args.crowd_prob, void_prob=args.void_prob,
                          varied_instances=args.varied_instances)
    for split, count in args.splits:
        paths = generate_split(args.out_dir, split, count, seed=args.seed, cfg=cfg)
        print(f'{split}: {count} images -> {paths["img_dir"]}, {paths["instances_json"]}, '
              f'{paths["panoptic_json"]}')


if __name__ == '__main__':
    main()
