#!/usr/bin/env bash
# The default bundles from scratch in an hour on two cores, then exported into bundles/:
#   1. the Emu model (vision, Causal Former, LLaMA with both heads; every task) on one core for
#      42 minutes, its ViT's position embeddings starting as sine-cosine waves, while the other
#      core trains the VAE (9 minutes), then renders fresh scenes for it (stream_scenes.py: a
#      fixed pool of scenes is memorised, fresh ones are not; 150 a second is plenty);
#   2. the pretrained variant: its LLM trained 8 minutes more on regression and captions with
#      the vision side fixed (the real Emu's two variants are different weights too), on the
#      newest 20,000 streamed scenes;
#   3. the UNet: beside stage 2, 8 minutes on the Causal Former's embeddings of scenes (stage 2
#      keeps the vision side fixed, so they are the same), then 10 minutes on two threads on the
#      pretrained variant's regressions of their captions, which is what it gets when drawing;
#   4. the export: tiny-instruct from stage 1, tiny-pretrain from stage 2 with the image decoder.
#
#   tools/train/train_all.sh [OUT_DIR]        (default tools/train/out; logs go there too)
#
# Every stage is seeded. The stages are time-boxed, so a slower machine takes fewer steps and
# ends with other weights (and stage 1 takes in the streamed scenes as they come); the steps each
# stage reached are in its log and in tools/train/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-tools/train/out}
python=${PYTHON:-/usr/bin/python3}
mkdir -p "$out/pretrain"

rm -rf "$out/scenes"
mkdir -p "$out/scenes"
"$python" tools/train/train_shapes.py --minutes 42 --steps 20000 --batch 32 --lr 2e-3 --warmup 100 \
  --sincos-positions 2 --position-lr 10 \
  --pool 6000 --fresh-scenes "$out/scenes" --pool-capacity 30000 --out "$out" >"$out/train.log" 2>&1 &
emu=$!
trap 'kill "$emu" 2>/dev/null || true; touch "$out/scenes/stop"' EXIT
"$python" tools/train/train_decoder.py --stage vae --minutes 9 --lr 2e-3 --out "$out/pretrain" >"$out/vae.log" 2>&1
"$python" tools/train/stream_scenes.py --out "$out/scenes" --minutes 40 --rate 150 >"$out/scenes.log" 2>&1 &
wait "$emu"
touch "$out/scenes/stop"
wait
trap - EXIT
"$python" tools/train/train_shapes.py --resume "$out/shapes-emu.pt" --freeze-vision --no-probe \
  --tasks regress=0.85,pretrain=0.15 --lr 1e-3 --warmup 20 --minutes 8 --steps 20000 --batch 32 \
  --pool 20000 --pool-from "$out/scenes" --out "$out/pretrain" >"$out/pretrain.log" 2>&1 &
pretrain=$!
trap 'kill "$pretrain" 2>/dev/null || true' EXIT
"$python" tools/train/train_decoder.py --stage unet --minutes 8 --batch 64 --lr 1e-3 --pool 3000 \
  --visual-share 1.0 --checkpoint "$out/shapes-emu.pt" --vae "$out/pretrain/shapes-vae.pt" \
  --out "$out/visual-unet" >"$out/visual-unet.log" 2>&1
wait "$pretrain"
trap - EXIT
"$python" tools/train/train_decoder.py --stage unet --minutes 10 --batch 64 --lr 1e-3 --pool 3000 --threads 2 \
  --visual-share 0.1 --init "$out/visual-unet/shapes-decoder.pt" --checkpoint "$out/pretrain/shapes-emu.pt" \
  --out "$out/pretrain" >"$out/unet.log" 2>&1
"$python" tools/train/export_shapes.py --checkpoint "$out/shapes-emu.pt" \
  --pretrain-checkpoint "$out/pretrain/shapes-emu.pt" --decoder "$out/pretrain/shapes-decoder.pt"
echo "bundles written; measure them with: npm run eval:shapes"
