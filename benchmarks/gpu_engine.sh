#!/usr/bin/env bash
# The engine's GPU figures in one device call (about 3 minutes on an H200): training speed of every family
# (bf16, then torch.compile), and the sentences application's BS-VAE on its `gpu` profile with bf16 autocast,
# scored with 500 importance samples on the whole test split.
#
#   dvc repro sentences-tokenize        # here, once: the default profile's tokens and tokenizer
#   # device call, carrying data/sentences/tokens and data/sentences/tokenizer:
#   OUT=/some/dir bash benchmarks/gpu_engine.sh
#
# Needs only torch, tokenizers, numpy, pandas and pyyaml on the GPU machine. Each step has its own time limit.
set -u
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/gpu_engine}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, tokenizers; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'tokenizers', tokenizers.__version__)"
python3 - "$OUT/params-gpu.yaml" <<'PY'
import sys, yaml
raw = yaml.safe_load(open("params.yaml"))
for section, knobs in raw["sentences"]["profiles"]["gpu"].items():
    raw["sentences"][section].update(knobs)
raw["sentences"]["train"]["precision"] = "bf16"
open(sys.argv[1], "w").write(yaml.safe_dump(raw, sort_keys=False))
PY
step() { local limit=$1 name=$2; shift 2; echo "=== $name ($(date +%T))"; timeout "$limit" "$@" > "$OUT/$name.txt" 2>&1; echo "rc=$?"; tail -n 14 "$OUT/$name.txt"; }
step 80 train_bf16 python3 benchmarks/train.py --steps 40 --warmup 8
step 100 train_compile python3 benchmarks/train.py --compile --steps 40 --warmup 20 --families bsvae transformer_lm
step 130 quality_bsvae python3 benchmarks/quality.py --params "$OUT/params-gpu.yaml" --app sentences \
  --name "BS-VAE, gpu profile, bf16, 6 epochs, H200" --set model.family=bsvae --set train.epochs=6 --sentences 0 \
  --iw-samples 500 --results "$OUT/quality.jsonl"
grep -E "epoch [0-9]+ step" "$OUT/quality_bsvae.txt" | tail -n 25
