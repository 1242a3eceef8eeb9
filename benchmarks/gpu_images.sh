#!/usr/bin/env bash
# Image figures in one device call: the `gpu` profile (64 channels, latent 32, 30 epochs, bf16, K = 500 on all
# 10,000 test images) of each family, side by side on the GPU (small models leave it mostly idle): the
# conditional BS-VAE (the sample-accuracy goal), VQ-VAE and GAN, and the unconditional BS-VAE and plain
# VAE (the NLL goal). One family takes about 72 s of training and 50-60 s of scoring on an H100 when it runs alone.
#
#   dvc repro images-classifier          # here, once
#   python benchmarks/image_arrays_by_index.py pack data/images/arrays gpu_carry/image_arrays.npz
#   OUT=/some/dir bash benchmarks/gpu_images.sh      # on the device, carrying gpu_carry and models/images/classifier
#   STEPS="cond_vqvae cond_gan" LIMIT=500 bash benchmarks/gpu_images.sh              # some of them only
#
# The arrays (53 MB) do not fit the device call's 64 MiB beside the tracked tree; the tracked IDX files and where
# each image sits in them (160 KB) do, and are rebuilt there into the same arrays (checked by hash).
# Exits non-zero when any step failed or ran out of time. Needs only torch, numpy, pandas and pyyaml.
set -u
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=4
OUT=${OUT:-/tmp/gpu_images}
STEPS=${STEPS:-"cond_bsvae cond_vqvae cond_gan bsvae vae"}
LIMIT=${LIMIT:-540}
NAME=${NAME:-"gpu profile, $(nvidia-smi --query-gpu=name --format=csv,noheader | head -n1)"}
mkdir -p "$OUT"
if [ ! -d data/images/arrays ]; then
  python3 benchmarks/image_arrays_by_index.py unpack gpu_carry/image_arrays.npz data/images/arrays || exit 1
fi
# step NAME: one family (cond_ prefix: class-conditional) under the time limit, its log in $OUT/NAME.txt
step() { local name=$1 family=${1#cond_} conditional=false; [ "$family" != "$1" ] && conditional=true
         echo "=== $name starts $(date +%T)"
         timeout "$LIMIT" python3 benchmarks/images.py --profile gpu --name "$NAME" --results "$OUT/images.jsonl" \
           --families "$family" --set "model.conditional=$conditional" > "$OUT/$name.txt" 2>&1
         local rc=$?; echo "=== $name rc=$rc at $(date +%T)"; grep -v "^\s*$" "$OUT/$name.txt" | tail -n 4; return $rc; }
pids=()
for name in $STEPS; do step "$name" & pids+=($!); done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
exit $failed
