"""Fault injection: SIGKILL training at random moments and inside checkpoint saves, resume
each time with ``tools/train.py --resume``, and compare with an uninterrupted run.

The tiny DR1Mask (``configs/dr1mask/dr1mask_r18_fpn_tiny_synthetic.py``) trains in
deterministic mode on a small synthetic dataset, first once without interruption (the
reference), then in "lives": each life is ``tools/train.py --resume`` (automatic: the
``last_checkpoint`` pointer) in a fresh process, killed with SIGKILL by one entry of the
plan, until the plan is used up; a last life trains to the end. Plan entries:

* ``random``: this script kills the life after a delay drawn uniformly from
  [0, window]: start-up, loading the checkpoint, training steps, saves. The window is
  the reference's time from launch to its first checkpoint plus two checkpoint
  intervals, so a life is killed before its first save about half the time.
* a point inside a save, where the life kills itself at its first or second save
  (drawn among those left): ``checkpoint_write`` (half of the checkpoint's bytes written),
  ``checkpoint_rename`` (written and flushed, not yet renamed; atomic hook only),
  ``pointer_write`` (half of the ``last_checkpoint`` pointer written),
  ``pointer_rename`` (atomic hook only) and ``after_pointer`` (the pointer complete,
  the outdated checkpoint not yet removed). The life does this through wrappers of
  ``open`` and ``os.replace`` installed before ``tools/train.py`` runs (``child``).

After every kill the checkpoint the pointer names is checked (complete zip archive, CRCs),
and the next life must resume: a life that exits with an error ends the run (a kill not
survived). At the end the final checkpoints' weights and optimizer states are
compared bit for bit, and every loss every life logged with the reference's loss of the
same iteration (exact equality). ``--hook CheckpointHook`` runs MMEngine's own hook
instead, to show what the atomic hook prevents.

    python tools/analysis_tools/fault_injection.py WORK_DIR --kills 20 --iters 100 \\
        --interval 4 --seed 0 --out results.json
"""
import argparse
import builtins
import datetime
import glob
import importlib.util
import json
import os
import os.path as osp
import random
import re
import shutil
import signal
import subprocess
import time
from typing import Any, Dict, List, Optional

from mmdet_dr1mask.support import child_process, run_child

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(REPO_ROOT, 'configs', 'dr1mask', 'dr1mask_r18_fpn_tiny_synthetic.py')
SAVE_POINTS = ('checkpoint_write', 'checkpoint_rename', 'pointer_write', 'pointer_rename',
               'after_pointer')
ATOMIC_ONLY = ('checkpoint_rename', 'pointer_rename')  # MMEngine's hook renames nothing
CHECKPOINT_NAME = re.compile(r'^\.?iter_\d+\.pth(\.partial)?$')
POINTER_NAME = re.compile(r'^\.?last_checkpoint(\.partial)?$')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dir', help='reference/, killed/ and data/ go here')
    parser.add_argument('--kills', type=int, default=20, help='lives to kill')
    parser.add_argument('--plan', nargs='+', choices=('random', ) + SAVE_POINTS,
                        help='kills in this order instead of --kills drawn ones: '
                        'alternately random moments and save points')
    parser.add_argument('--iters', type=int, default=100, help='training iterations')
    parser.add_argument('--interval', type=int, default=4, help='checkpoint interval')
    parser.add_argument('--max-keep-ckpts', type=int, default=1,
                        help='checkpoints kept (1: the hook must remove the old one last)')
    parser.add_argument('--hook', default='AtomicCheckpointHook',
                        choices=('AtomicCheckpointHook', 'CheckpointHook'))
    parser.add_argument('--seed', type=int, default=0, help='draws the kills')
    parser.add_argument('--data-root', help='synthetic data (default: generated in '
                        'WORK_DIR/data: 8 train and 3 val images of 96x128)')
    parser.add_argument('--out', help='write the report (json) here')
    return parser.parse_args(argv)


# ------------------------------------------------------------------ inside a life
def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class _HalfWriter:
    """A file opened for writing that dies halfway through its first write."""

    def __init__(self, f) -> None:
        self._f = f

    def write(self, data) -> int:
        self._f.write(data[:len(data) // 2])
        self._f.flush()
        os.fsync(self._f.fileno())  # the half is on disk, as a kill mid-write leaves it
        _die()

    def __enter__(self) -> '_HalfWriter':
        return self

    def __exit__(self, *exc) -> None:
        self._f.close()

    def __getattr__(self, name: str):
        return getattr(self._f, name)


class _CloseHook:
    """A file opened for writing that calls ``then`` once it is closed."""

    def __init__(self, f, then) -> None:
        self._f, self._then = f, then

    def __enter__(self) -> '_CloseHook':
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._f.close()
        self._then()

    def __getattr__(self, name: str):
        return getattr(self._f, name)


def install_kill(point: str, save_number: int) -> None:
    """Kill this process at ``point`` of its ``save_number``-th checkpoint save."""
    real_open, real_replace = builtins.open, os.replace
    saves = [0]  # checkpoint files opened for writing so far

    def armed() -> bool:
        return saves[0] == save_number

    def open_(file, mode='r', *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        if not isinstance(file, (str, bytes, os.PathLike)) or not set(mode) & set('wax'):
            return f
        name = osp.basename(os.fsdecode(file))
        if CHECKPOINT_NAME.match(name):
            saves[0] += 1
            if point == 'checkpoint_write' and armed():
                return _HalfWriter(f)
        elif POINTER_NAME.match(name) and armed():
            if point == 'pointer_write':
                return _HalfWriter(f)
            if point == 'after_pointer' and name == 'last_checkpoint':  # written in place
                return _CloseHook(f, _die)
        return f

    def replace(src, dst, *args, **kwargs):
        name = osp.basename(os.fsdecode(dst))
        if armed() and ((point == 'checkpoint_rename' and CHECKPOINT_NAME.match(name)) or
                        (point == 'pointer_rename' and name == 'last_checkpoint')):
            _die()
        real_replace(src, dst, *args, **kwargs)
        if armed() and point == 'after_pointer' and name == 'last_checkpoint':
            _die()

    builtins.open, os.replace = open_, replace


def child(argv: List[str]) -> None:
    """``child POINT SAVE_NUMBER TRAIN_ARGS...``: tools/train.py with a kill installed."""
    point, save_number, train_args = argv[0], int(argv[1]), argv[2:]
    if point != 'none':
        install_kill(point, save_number)
    spec = importlib.util.spec_from_file_location(
        'train', osp.join(REPO_ROOT, 'tools', 'train.py'))
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    train.main(train_args)


# ------------------------------------------------------------------ the driver
def train_args(args: argparse.Namespace, work_dir: str, data_root: str) -> List[str]:
    return [TINY, '--work-dir', work_dir, '--resume', '--data-root', data_root,
            '--cfg-options', f'train_cfg.max_iters={args.iters}',
            # no validation: what is compared is the training state
            'val_cfg=None', 'val_dataloader=None', 'val_evaluator=None',
            'train_dataloader.batch_size=2', 'default_hooks.logger.interval=1',
            f'default_hooks.checkpoint.type={args.hook}',
            f'default_hooks.checkpoint.interval={args.interval}',
            f'default_hooks.checkpoint.max_keep_ckpts={args.max_keep_ckpts}',
            'randomness.deterministic=True',
            # few positives kept per image: the blender draws them with torch's generator
            'model.mask_head.max_pos_per_img=2']


def launch(args: argparse.Namespace, work_dir: str, data_root: str, point: str = 'none',
           save_number: int = 0) -> subprocess.Popen:
    os.makedirs(work_dir, exist_ok=True)
    with open(osp.join(work_dir, 'lives.log'), 'a') as log:  # the child has its own copy
        return subprocess.Popen(stdout=log, stderr=subprocess.STDOUT, **child_process(
            __file__, point, str(save_number), *train_args(args, work_dir, data_root),
            root=REPO_ROOT))


def read_pointer(work_dir: str) -> Optional[str]:
    path = osp.join(work_dir, 'last_checkpoint')
    if not osp.exists(path):
        return None
    with open(path) as f:
        return f.read().strip()


def logged_losses(work_dir: str) -> List[Dict[str, Any]]:
    """Every record with a loss in every life's scalars.json, in order; a line a kill cut
    short is skipped."""
    records = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            for line in f:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if 'loss' in record:
                    records.append(record)
    return records


def last_logged_iter(work_dir: str) -> int:
    return max((r['iter'] for r in logged_losses(work_dir)), default=0)


def compare_checkpoints(reference: str, other: str) -> Dict[str, Any]:
    import torch
    a, b = torch.load(reference), torch.load(other)
    weights = [k for k in a['state_dict']
               if not torch.equal(a['state_dict'][k], b['state_dict'][k])]
    optim_a, optim_b = a['optimizer']['state'], b['optimizer']['state']
    optimizer = [k for k in optim_a if any(
        not torch.equal(v, optim_b[k][n]) for n, v in optim_a[k].items()
        if isinstance(v, torch.Tensor))]
    return dict(tensors=len(a['state_dict']), weights_differing=weights,
                optimizer_states_differing=optimizer, iter=(a['meta']['iter'],
                                                            b['meta']['iter']))


def compare_losses(reference: str, killed: str, iters: int) -> Dict[str, Any]:
    expected = {r['iter']: r for r in logged_losses(reference)}
    records = logged_losses(killed)
    differing = [r['iter'] for r in records if any(
        r[k] != expected.get(r['iter'], {}).get(k) for k in r if k.startswith('loss'))]
    return dict(records=len(records), iterations_logged=len({r['iter'] for r in records}),
                iterations_expected=iters, differing=differing)


def draw_plan(args: argparse.Namespace, rng: random.Random) -> List[str]:
    if args.plan:
        return list(args.plan)
    points = [p for p in SAVE_POINTS if args.hook == 'AtomicCheckpointHook' or
              p not in ATOMIC_ONLY]
    return ['random' if i % 2 == 0 else points[(i // 2) % len(points)]
            for i in range(args.kills)]


def wait_for_file(proc: subprocess.Popen, path: str) -> Optional[float]:
    """Seconds from now until ``path`` exists (None if ``proc`` ends first)."""
    start = time.time()
    while not osp.exists(path):
        if proc.poll() is not None:
            return None
        time.sleep(0.05)
    return time.time() - start


def run(args: argparse.Namespace) -> Dict[str, Any]:
    from mmdet_dr1mask.support import SyntheticConfig, generate_split
    from mmdet_dr1mask.support.checkpoint import checkpoint_damage
    rng = random.Random(args.seed)
    data_root = args.data_root or osp.join(args.work_dir, 'data')
    if args.data_root is None and not osp.isdir(osp.join(data_root, 'train')):
        cfg = SyntheticConfig(img_size=(96, 128), max_things=4, crowd_prob=0.25,
                              void_prob=0.25)
        generate_split(data_root, 'train', 8, seed=0, cfg=cfg)
        generate_split(data_root, 'val', 3, seed=0, cfg=cfg)
    reference, killed = osp.join(args.work_dir, 'reference'), osp.join(args.work_dir, 'killed')
    for folder in (reference, killed):  # a new run, not a resumed one
        shutil.rmtree(folder, ignore_errors=True)

    # the reference, timed: launch -> first checkpoint -> end
    start = time.time()
    proc = launch(args, reference, data_root)
    first_ckpt = wait_for_file(proc, osp.join(reference, f'iter_{args.interval}.pth'))
    if proc.wait() != 0 or first_ckpt is None:
        raise RuntimeError(f'the reference run failed; see {reference}/lives.log')
    total = time.time() - start
    per_iter = (total - first_ckpt) / max(1, args.iters - args.interval)
    window = first_ckpt + 2 * args.interval * per_iter

    lives: List[Dict[str, Any]] = []
    survived = True
    for plan in draw_plan(args, rng):
        resumed_from = read_pointer(killed)
        life = dict(plan=plan, resumed_from=resumed_from)
        if plan == 'random':
            life['delay_s'] = round(rng.uniform(0, window), 2)
            proc = launch(args, killed, data_root)
            try:
                proc.wait(timeout=life['delay_s'])
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
        else:
            done = int(re.search(r'iter_(\d+)\.pth$', resumed_from).group(1)) \
                if resumed_from else 0
            saves_left = (args.iters - done) // args.interval
            life['save_number'] = rng.choice([1, 2][:max(1, saves_left)])
            proc = launch(args, killed, data_root, plan, life['save_number'])
        life['returncode'] = proc.wait()
        life['pointer_after'] = pointer = read_pointer(killed)
        life['pointer_names_complete_checkpoint'] = pointer is None or (
            osp.isfile(pointer) and checkpoint_damage(pointer) is None)
        life['last_logged_iter'] = last_logged_iter(killed)
        lives.append(life)
        print(json.dumps(life), flush=True)
        if life['returncode'] == 0:  # the schedule ended before the plan did
            break
        if life['returncode'] != -signal.SIGKILL:
            survived = False  # an error, not our kill: the resume failed
            break
    kills = sum(life['returncode'] == -signal.SIGKILL for life in lives)
    if survived and lives[-1]['returncode'] != 0:  # the last life, not killed
        final = dict(plan='none', resumed_from=read_pointer(killed))
        final['returncode'] = launch(args, killed, data_root).wait()
        lives.append(final)
        print(json.dumps(final), flush=True)
        survived = final['returncode'] == 0

    report: Dict[str, Any] = dict(
        date=datetime.date.today().isoformat(), hook=args.hook, iters=args.iters,
        interval=args.interval, max_keep_ckpts=args.max_keep_ckpts, seed=args.seed,
        reference_s=round(total, 1), reference_first_checkpoint_s=round(first_ckpt, 1),
        random_window_s=round(window, 1), kills=kills, survived=survived, lives=lives,
        # what the killed run's folder holds at the end: checkpoints and temporary files
        files_left=sorted(f for f in os.listdir(killed) if f.endswith(('.pth', '.partial'))))
    if survived:
        name = f'iter_{args.iters}.pth'
        report['checkpoints'] = compare_checkpoints(osp.join(reference, name),
                                                    osp.join(killed, name))
        report['losses'] = compare_losses(reference, killed, args.iters)
        report['equal'] = not (report['checkpoints']['weights_differing'] or
                               report['checkpoints']['optimizer_states_differing'] or
                               report['losses']['differing'] or
                               report['losses']['iterations_logged'] != args.iters)
    else:
        with open(osp.join(killed, 'lives.log')) as f:
            report['error'] = [line.rstrip() for line in f.readlines()[-5:]]
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(report, f, indent=1)
    return report


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    argv = run_child(argv, child)
    if argv is None:
        return {}
    args = parse_args(argv)
    report = run(args)
    lives = report['lives']
    print(f"{report['kills']} kills ({args.hook}); "
          f"{'all survived' if report['survived'] else 'a resume FAILED'}; "
          f"{len(lives)} lives; final weights, optimizer and losses equal to the "
          f"uninterrupted run: {report.get('equal')}")
    return report


if __name__ == '__main__':
    main()
