#!/usr/bin/env bash
# One prepared GPU check, sized for a single call of about 8 minutes on a lent GPU machine:
#   1. the whole test suite with CUDA present (device="auto" tests and the CUDA-only tests run there);
#   2. inference and training speed of the shipped models on the GPU (benchmarks/bench_amortized.py);
#   3. meta-training MODEL on FAMILY on the GPU for TRAIN_S seconds (bfloat16), test graphs excluded,
#      from a wider network than the CPU checkpoints (AVICI with LAMB at lr 2e-3 and batch 64, the
#      recipe that ended its early plateau in docs/training.md); the model checkpoint, the logs (one
#      tar) and the resumable state (split into 14 MB pieces: reassemble with
#      `cat OUT/MODEL_gpu.train.part-* > X.train.safetensors`) are written to OUT. The machine returns
#      at most 8 files per call, so OUT holds no more than that.
# Usage: OUT=DIR [MODEL=bcnp] [FAMILY=id] [TRAIN_S=240] [WORKERS=8] [RESUME_FROM=X.train.safetensors] \
#        bash scripts/gpu_session.sh
# DEVICE=cpu runs step 3 on the CPU (a dry run of the script). RESUME_FROM continues a run of this script from its reassembled state (carry the file to the machine).
# ARCH replaces the network's JSON keyword arguments (a resumed state must be given the config it was saved with).
# CHECKS=0 skips steps 1 and 2 (all of the call goes to training).
# P_OBS (default 0.5) and N_SAMPLES (default 200) set --p-observational-only and --n-samples (a resumed
# state must be given the values it was saved with).
# (FAMILY=benchmarks/families/id_linear_er.yml trains on the lin-Gauss ER domain of issue 4's goal.)
# Wheels of packages missing on the machine can be placed in .whl/ (installed to /tmp/site first).
set -u
OUT=${OUT:?set OUT to a folder for the results}
MODEL=${MODEL:-bcnp}
FAMILY=${FAMILY:-id}
TRAIN_S=${TRAIN_S:-240}
WORKERS=${WORKERS:-8}
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
LOGS=/tmp/gpu_logs
LOG=$LOGS/log.txt
mkdir -p "$OUT" "$LOGS"
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    >>"$LOG" 2>&1 || { echo "wheel install failed"; tail "$LOG"; exit 1; }
  export PYTHONPATH=/tmp/site:$PWD
else
  export PYTHONPATH=$PWD
fi
python3 -c "import torch, skcausal_meta; print('torch', torch.__version__, torch.cuda.is_available() and torch.cuda.get_device_name())" \
  >>"$LOG" 2>&1 || { cat "$LOG"; exit 2; }

if [ "${CHECKS:-1}" = 1 ]; then
  echo "== 1. tests" >>"$LOG"
  # 8 workers where pytest-xdist is installed (it is no dependency of the project), else one
  PARALLEL=$(python3 -c "import xdist" 2>/dev/null && echo "-n 8")
  timeout 240 python3 -m pytest -q -p no:cacheprovider $PARALLEL --ignore=tests/test_packaging.py -rfs tests \
    >"$LOGS/pytest.txt" 2>&1
  echo "pytest exit $?" >>"$LOG"

  echo "== 2. bench_amortized" >>"$LOG"
  timeout 120 python3 benchmarks/bench_amortized.py --device cuda --nodes 20 100 --samples 1000 5000 \
    --train-steps 50 >>"$LOG" 2>&1
fi

echo "== 3. training $MODEL for $TRAIN_S s" >>"$LOG"
RUN=/tmp/gpu_runs/${MODEL}_gpu
mkdir -p /tmp/gpu_runs
if [ -n "${RESUME_FROM:-}" ]; then cp "$RESUME_FROM" "$RUN.train.safetensors"; fi
python3 -m skcausal_meta.train hash-test-graphs --family id --n-nodes 10 20 --seeds 0 --n-datasets 10 \
  --out /tmp/gpu_runs/test_graphs.txt >>"$LOG" 2>&1
python3 -m skcausal_meta.train hash-test-graphs --family id --n-nodes 10 20 --seeds 10000 10001 10002 10003 \
  --n-datasets 10 --split none --out /tmp/gpu_runs/heldout.txt >>"$LOG" 2>&1
python3 -m skcausal_meta.train hash-test-graphs --family benchmarks/families/id_linear_er.yml --n-nodes 20 \
  --seeds 10004 --n-datasets 10 --split none --out /tmp/gpu_runs/heldout_linear.txt >>"$LOG" 2>&1
if [ "$MODEL" = avici ]; then
  SETTINGS=(--model-config "${ARCH:-{\"dim\": 128, \"n_layers\": 6, \"n_heads\": 8\}}" --batch-size 64 --optimizer lamb --lr 2e-3)
else
  SETTINGS=(--model-config "${ARCH:-{\"dim\": 96, \"n_layers\": 4, \"n_decoder_layers\": 2, \"n_heads\": 8, \"n_perm_samples\": 16\}}"
            --batch-size 32 --lr 5e-4)
fi
timeout "$TRAIN_S" python3 -m skcausal_meta.train --model "$MODEL" --family "$FAMILY" --out "$RUN" --device "${DEVICE:-cuda}" \
  "${SETTINGS[@]}" --steps 200000 --decay inverse_sqrt --threads 2 \
  --num-workers "$WORKERS" --n-nodes 5 20 --n-samples "${N_SAMPLES:-200}" --n-interventional 50 \
  --p-observational-only "${P_OBS:-0.5}" --warmup-steps 500 \
  --eval-every 250 --checkpoint-every 250 --n-validation-batches 2 --seed 0 --quiet \
  --exclude-graphs /tmp/gpu_runs/test_graphs.txt /tmp/gpu_runs/heldout.txt /tmp/gpu_runs/heldout_linear.txt \
  --log "$LOGS/${MODEL}_gpu.jsonl" >>"$LOG" 2>&1
cp "$RUN.safetensors" "$RUN.json" "$OUT/" 2>>"$LOG"
split -b 14M "$RUN.train.safetensors" "$OUT/${MODEL}_gpu.train.part-" 2>>"$LOG"
tar czf "$OUT/logs.tgz" -C "$LOGS" . 2>/dev/null
[ -f "$LOGS/pytest.txt" ] && tail -c 2000 "$LOGS/pytest.txt"
tail -n 30 "$LOG"
