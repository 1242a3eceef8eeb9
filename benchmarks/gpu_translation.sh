#!/usr/bin/env bash
# Translation figures in one device call (about 8 minutes): the `gpu` profile (bf16, batch 128) of the
# Transformer baseline and the VQ latent translator distilled from it, German -> English, and, at the same
# time on the same GPU, the baseline English -> German; BLEU, chrF, lowercased BLEU, decoding speed and the
# BLEU-against-time curve of each. Small models leave the GPU mostly idle, so the two runs share it; each
# run measures the decoding speeds of its models side by side after all its training.
#
#   dvc repro translation-tokenize       # here, once; the device call carries data/translation
#   OUT=/some/dir bash benchmarks/gpu_translation.sh [MIN_TEACHER] [MIN_LATENT] [MIN_EN_DE]
#
# Needs only torch, tokenizers, numpy, pandas, pyyaml and sacrebleu on the GPU machine.
set -u
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=4
OUT=${OUT:-/tmp/gpu_translation}
MIN_TEACHER=${1:-2.5}
MIN_LATENT=${2:-4}
MIN_EN_DE=${3:-4}
NAME=${NAME:-"gpu profile, $(nvidia-smi --query-gpu=name --format=csv,noheader | head -n1)"}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python3 -c "import torch, sacrebleu; print('torch', torch.__version__, 'sacrebleu', sacrebleu.__version__)"
step() { local limit=$1 name=$2; shift 2; echo "=== $name starts $(date +%T)"; timeout "$limit" "$@" > "$OUT/$name.txt" 2>&1
         local rc=$?; echo "=== $name rc=$rc at $(date +%T)"; grep -v "^\s*$" "$OUT/$name.txt" | tail -n 9; return $rc; }
step 560 de_en python3 benchmarks/translation.py --profile gpu --minutes "$MIN_TEACHER" "$MIN_LATENT" --distill \
  --families transformer latent --name "$NAME" --results "$OUT/translation.jsonl" &
de_en=$!
step 560 en_de python3 benchmarks/translation.py --profile gpu --minutes "$MIN_EN_DE" --reverse \
  --families transformer --set evaluate.speed_sentences=50 --name "$NAME" --results "$OUT/translation.jsonl" &
en_de=$!
wait "$de_en"; rc_de_en=$?
wait "$en_de"; rc_en_de=$?
exit $((rc_de_en || rc_en_de))  # non-zero when either run failed or ran out of time
