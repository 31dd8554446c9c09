# Shared by the synthetic panoptic benchmark scripts; sourced, not run. The caller sets
# PY (python), WORK_DIR, ITERS and DATA (the dataset root, ending in /).

# train_tiny CONFIG RUN_DIR [CFG_OPTION...]: ITERS iterations on DATA (lr / 10 at 5/6, one
# evaluation and one checkpoint at the end: train.py --data-root --iters), training seed
# SEED (default 0, the configs' own); extra options come last and win
train_tiny() {
  local config=$1 run_dir=$2
  shift 2
  "$PY" tools/train.py "$config" --work-dir "$run_dir" --data-root "$DATA" --iters "$ITERS" \
    --cfg-options randomness.seed="${SEED:-0}" "$@"
}

# test_tiny RUN_DIR RUN_NAME OUT_DIR [CFG_OPTION...]: evaluates RUN_DIR's final checkpoint
# with the config train.py saved there as RUN_NAME.py
test_tiny() {
  local run_dir=$1 name=$2 out_dir=$3 extra=()
  shift 3
  (($#)) && extra=(--cfg-options "$@")
  "$PY" tools/test.py "$run_dir/$name.py" "$run_dir/iter_$ITERS.pth" --work-dir "$out_dir" \
    --data-root "$DATA" "${extra[@]}"
}

# print_metrics NAME LOG KEY...: one line, NAME and each KEY of LOG's last panoptic
# evaluation (train.py's scalars.json or test.py's <timestamp>.json), prefix dropped
print_metrics() {
  "$PY" - "$@" <<'PY'
import json, sys
name, log, keys = sys.argv[1], sys.argv[2], sys.argv[3:]
last = [json.loads(line) for line in open(log) if 'coco_panoptic/PQ' in line][-1]
print(name, ' '.join(f'{k.split("/")[1]}={last[k]:.3f}' for k in keys))
PY
}
