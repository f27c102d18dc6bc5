#!/usr/bin/env bash
# One prepared GPU check, sized for a single call of about 8 minutes on a lent GPU machine:
#   1. the whole test suite with CUDA present (device="auto" tests and the CUDA-only tests run there);
#   2. inference and training speed of the shipped models on the GPU (benchmarks/bench_amortized.py);
#   3. meta-training MODEL on the GPU for TRAIN_S seconds (bfloat16), test graphs excluded, from a
#      wider network than the CPU checkpoints; the model checkpoint, its log and the resumable state
#      (split into 15 MB pieces: reassemble with `cat OUT/MODEL_gpu.train.part-* > X.train.safetensors`)
#      are written to OUT.
# Usage: OUT=DIR [MODEL=bcnp] [TRAIN_S=240] [WORKERS=8] bash scripts/gpu_session.sh
# Wheels of packages missing on the machine can be placed in .whl/ (installed to /tmp/site first).
set -u
OUT=${OUT:?set OUT to a folder for the results}
MODEL=${MODEL:-bcnp}
TRAIN_S=${TRAIN_S:-240}
WORKERS=${WORKERS:-8}
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
LOG=$OUT/log.txt
mkdir -p "$OUT"
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    >>"$LOG" 2>&1 || { echo "wheel install failed"; tail "$LOG"; exit 1; }
  export PYTHONPATH=/tmp/site:$PWD
else
  export PYTHONPATH=$PWD
fi
python3 -c "import torch, skcausal_meta; print('torch', torch.__version__, torch.cuda.get_device_name())" \
  >>"$LOG" 2>&1 || { cat "$LOG"; exit 2; }

echo "== 1. tests" >>"$LOG"
timeout 240 python3 -m pytest -q -p no:cacheprovider -n 8 --ignore=tests/test_packaging.py -rfs tests \
  >"$OUT/pytest.txt" 2>&1
echo "pytest exit $?" >>"$LOG"

echo "== 2. bench_amortized" >>"$LOG"
timeout 120 python3 benchmarks/bench_amortized.py --device cuda --nodes 20 100 --samples 1000 5000 \
  --train-steps 50 >>"$LOG" 2>&1

echo "== 3. training $MODEL for $TRAIN_S s" >>"$LOG"
RUN=/tmp/gpu_runs/${MODEL}_gpu
mkdir -p /tmp/gpu_runs
python3 -m skcausal_meta.train hash-test-graphs --family id --n-nodes 10 20 --seeds 0 --n-datasets 10 \
  --out /tmp/gpu_runs/test_graphs.txt >>"$LOG" 2>&1
python3 -m skcausal_meta.train hash-test-graphs --family id --n-nodes 10 20 --seeds 10000 10001 10002 10003 \
  --n-datasets 10 --split none --out /tmp/gpu_runs/heldout.txt >>"$LOG" 2>&1
if [ "$MODEL" = avici ]; then
  ARCH='{"dim": 128, "n_layers": 6, "n_heads": 8}'
else
  ARCH='{"dim": 128, "n_layers": 4, "n_decoder_layers": 2, "n_heads": 8, "n_perm_samples": 16}'
fi
timeout "$TRAIN_S" python3 -m skcausal_meta.train --model "$MODEL" --family id --out "$RUN" --device cuda \
  --model-config "$ARCH" --batch-size 32 --steps 100000 --decay inverse_sqrt --threads 2 \
  --num-workers "$WORKERS" --n-nodes 5 20 --n-samples 200 --n-interventional 50 --lr 5e-4 --warmup-steps 500 \
  --eval-every 250 --checkpoint-every 250 --n-validation-batches 2 --seed 0 \
  --exclude-graphs /tmp/gpu_runs/test_graphs.txt /tmp/gpu_runs/heldout.txt --quiet \
  --log "$OUT/${MODEL}_gpu.jsonl" >>"$LOG" 2>&1
cp "$RUN.safetensors" "$RUN.json" "$OUT/" 2>>"$LOG"
split -b 15M "$RUN.train.safetensors" "$OUT/${MODEL}_gpu.train.part-" 2>>"$LOG"
tail -c 2000 "$OUT/pytest.txt"
tail -n 30 "$LOG"
