#!/usr/bin/env bash
# Pretraining's GPU figures in one device call (budget: about 9 minutes): the pretrain BS-VAE on the `gpu`
# profile's sizes (bf16) for a fixed time, the long-sequence table, the encoder probe, then the label-efficiency curve
# fine-tuned from that model with 4x the CPU step budgets (latent and token conditioning, two seeds, 50 samples a
# label; rows as they finish, so a cut run still leaves the first fractions).
#
#   dvc repro pretrain-tokenize         # here, once: GCIDE's tokens and BPE tokenizer (default profile: vocab 8000)
#   # device call, carrying data/pretrain/tokens and data/pretrain/tokenizer:
#   OUT=/some/dir bash benchmarks/gpu_pretrain.sh
#
# Needs only torch, tokenizers, safetensors, numpy, pandas, pyarrow and pyyaml on the GPU machine (the train stage
# and the benchmarks import nothing else). Each step has its own time limit.
set -u
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/gpu_pretrain}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 - "$OUT/params-gpu.yaml" <<'PY'
import sys, yaml
raw = yaml.safe_load(open("params.yaml"))
for app in ("pretrain", "conditional"):
    for section, knobs in raw[app]["profiles"]["gpu"].items():
        raw[app][section].update(knobs)
    raw[app]["train"].update(precision="bf16", epochs=3, checkpoint_every=0, min_checkpoints=0)
open(sys.argv[1], "w").write(yaml.safe_dump(raw, sort_keys=False))
PY
step() { local limit=$1 name=$2; shift 2; echo "=== $name ($(date +%T))"; timeout "$limit" "$@" > "$OUT/$name.txt" 2>&1; echo "rc=$?"; tail -n 14 "$OUT/$name.txt"; }
step 200 pretrain python3 -m components.kinds.text.stages.train --params "$OUT/params-gpu.yaml" --app pretrain \
  --tokens data/pretrain/tokens --tokenizer data/pretrain/tokenizer/tokenizer.json --out-dir "$OUT/pretrain-bsvae" \
  --metrics "$OUT/pretrain-train.json" --history "$OUT/pretrain-history.json" --warm-start base/pretrain \
  --checkpoint "$OUT/pretrain.pt" --timing "$OUT/pretrain-timing.json"
step 60 long_sequences python3 benchmarks/long_sequences.py --steps 30 --warmup 5
step 80 probe python3 benchmarks/probe.py --params "$OUT/params-gpu.yaml" --base-model "$OUT/pretrain-bsvae" \
  --base-tokenizer data/pretrain/tokenizer/tokenizer.json --per-class 1 10 100 --seeds 0 1 --scratch-steps 1200 \
  --out "$OUT/probe.jsonl"
step 200 label_efficiency python3 benchmarks/label_efficiency.py --params "$OUT/params-gpu.yaml" \
  --base-model "$OUT/pretrain-bsvae" --base-tokenizer data/pretrain/tokenizer/tokenizer.json --steps-scale 4 \
  --only conditional --conditioning latent tokens --seeds 1 2 --samples-per-label 50 --base-lr-scale 0.3 \
  --out "$OUT/label_efficiency.jsonl"
