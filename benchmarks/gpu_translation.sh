#!/usr/bin/env bash
# Translation figures in one device call (about 8 minutes on an H200): the `gpu` profile (bf16, batch 128) of
# the Transformer baseline and the VQ latent translator distilled from it, German -> English, then the baseline
# English -> German; BLEU, chrF, lowercased BLEU, decoding speed and the BLEU-against-time curve of each.
#
#   dvc repro translation-tokenize       # here, once; the device call carries data/translation
#   OUT=/some/dir bash benchmarks/gpu_translation.sh [MINUTES_DE_EN] [MINUTES_EN_DE]
#
# Needs only torch, tokenizers, numpy, pandas, pyyaml and sacrebleu on the GPU machine.
set -u
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/gpu_translation}
MIN_DE_EN=${1:-2.5}
MIN_EN_DE=${2:-1.5}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python3 -c "import torch, sacrebleu; print('torch', torch.__version__, 'sacrebleu', sacrebleu.__version__)"
step() { local limit=$1 name=$2; shift 2; echo "=== $name ($(date +%T))"; timeout "$limit" "$@" > "$OUT/$name.txt" 2>&1; echo "rc=$?"; grep -v "^\s*$" "$OUT/$name.txt" | tail -n 9; }
step 420 de_en python3 benchmarks/translation.py --profile gpu --minutes "$MIN_DE_EN" --distill \
  --families transformer latent --name "gpu profile, H200" --results "$OUT/translation.jsonl"
step 150 en_de python3 benchmarks/translation.py --profile gpu --minutes "$MIN_EN_DE" --reverse \
  --families transformer --set evaluate.speed_sentences=50 --name "gpu profile, H200" --results "$OUT/translation.jsonl"
