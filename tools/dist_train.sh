#!/usr/bin/env bash
# Distributed training with torchrun on one or several nodes.
#   tools/dist_train.sh CONFIG NUM_PROCESSES [train.py options]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR, PORT on every node. Without CUDA the
# processes train on the CPU with the gloo backend.
set -euo pipefail
CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
PYTHON=${PYTHON:-python}
TOOLS=$(cd "$(dirname "$0")" && pwd)

PYTHONPATH="$TOOLS/..:${PYTHONPATH:-}" \
"$PYTHON" -m torch.distributed.run \
  --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
  --nproc_per_node="$GPUS" --master_port="$PORT" \
  "$TOOLS/train.py" "$CONFIG" --launcher pytorch "${@:3}"
