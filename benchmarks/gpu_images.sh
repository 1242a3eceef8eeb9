#!/usr/bin/env bash
# Image figures in one device call: the `gpu` profile (64 channels, latent 32, 30 epochs, bf16, K = 500 on all
# 10,000 test images) of the conditional BS-VAE first (the sample-accuracy goal), then the conditional
# VQ-VAE and GAN, and the unconditional BS-VAE against the plain VAE (the NLL goal).
#
#   dvc repro images-classifier          # here, once
#   python benchmarks/image_arrays_by_index.py pack data/images/arrays gpu_carry/image_arrays.npz
#   OUT=/some/dir bash benchmarks/gpu_images.sh      # on the device, carrying gpu_carry and models/images/classifier
#
# The arrays (53 MB) do not fit the device call's 64 MiB beside the tracked tree; the tracked IDX files and where
# each image sits in them (160 KB) do, and are rebuilt there into the same arrays (checked by hash).
#
# Needs only torch, numpy, pandas and pyyaml on the GPU machine.
set -u
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=4
OUT=${OUT:-/tmp/gpu_images}
NAME=${NAME:-"gpu profile, $(nvidia-smi --query-gpu=name --format=csv,noheader | head -n1)"}
mkdir -p "$OUT"
if [ ! -d data/images/arrays ]; then
  python3 benchmarks/image_arrays_by_index.py unpack gpu_carry/image_arrays.npz data/images/arrays || exit 1
fi
# step LIMIT NAME ARGS...: benchmarks/images.py ARGS under a time limit, its log in $OUT/NAME.txt
step() { local limit=$1 name=$2; shift 2; echo "=== $name starts $(date +%T)"
         timeout "$limit" python3 benchmarks/images.py --profile gpu --name "$NAME" --results "$OUT/images.jsonl" "$@" \
           > "$OUT/$name.txt" 2>&1
         echo "=== $name rc=$? at $(date +%T)"; grep -v "^\s*$" "$OUT/$name.txt" | tail -n 6; }
step "${LIMIT:-240}" cond_bsvae --set model.conditional=true --families bsvae
step "${LIMIT:-280}" cond_vq_gan --set model.conditional=true --families vqvae gan &
step "${LIMIT:-280}" uncond --families bsvae vae &
wait
