#!/usr/bin/python3
"""Train the shapes Emu's image decoder (issue 12): a tiny VAE, then a tiny UNet, CPU only, seeded.

    /usr/bin/python3 tools/train/train_decoder.py --stage vae  [--minutes 8]
    /usr/bin/python3 tools/train/train_decoder.py --stage unet [--minutes 12] [--checkpoint tools/train/out/shapes-emu.pt]
    /usr/bin/python3 tools/train/train_decoder.py --stage vae --smoke   # (and --stage unet --smoke): a minute

Both use the reference's diffusers-layout modules (tools/emu_reference/unet.py, vae.py) at
`decoder_config()` below: SD v1.x's structure with tiny widths, 8x8x4 latents -> 64x64 images,
cross-attention as wide as the shapes LLM (128), SD v1.5's scheduler (PNDM at inference).

- vae: an AutoencoderKL on 64x64 renders of scenes (tools/shapes/scenes.py), MSE reconstruction
  plus a small KL term; `scaling_factor` is then set to 1 / std of the latent means, as SD's
  0.18215 was chosen. Does not need the Emu checkpoint, so it can run beside train_shapes.py.
- unet: epsilon-prediction on the DDPM noise schedule of scheduler_config.json, conditioned on
  the 32 embeddings the image decoder gets in Emu: the Causal Former embeddings of the scene
  image (what Emu's decoder is trained on), and, as often, the embeddings the trained LLM
  regresses from the scene's caption (`{caption}[IMG]`, reference regression loop), which are
  what it receives when drawing, in the shares `--visual-share` sets; 10% of rows get the empty
  prompt's regressed embeddings (the unconditional branch of classifier-free guidance).
  train_all.sh runs it twice: first on the visual embeddings alone (`--visual-share 1.0`, beside
  the pretrained variant's stage, whose vision side is fixed, so the embeddings are the same),
  then on from there (`--init`) on that variant's regressions, where most of its loss goes.

The result, tools/train/out/shapes-decoder.pt (unet.*, vae.*, safety_checker.* and the config),
is exported into bundles/tiny-pretrain by export_shapes.py. The safety checker is a random tiny
CLIP whose thresholds are set above any cosine, so it never flags these drawings.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path
from typing import Dict, List

import numpy as np
import torch
from PIL import Image
from torch.nn import functional as F

TOOLS_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TOOLS_DIR))

from emu_reference.config import EmuConfig  # noqa: E402
from emu_reference.diffusion_config import (  # noqa: E402
    DATA_DIR, ImageDecoderConfig, SafetyCheckerConfig, SchedulerConfig, UNetConfig, VaeConfig,
)
from emu_reference.generation import regress_image_embeddings  # noqa: E402
from emu_reference.image_decoder import ImageDecoderModel, init_random_decoder_weights  # noqa: E402
from emu_reference.model import EmuModel  # noqa: E402
from emu_reference.prompts import image_placeholder  # noqa: E402
from emu_reference.tokenizer import SlowTokenizer  # noqa: E402
from shapes.scenes import COLOUR_NAMES, SHAPES, Scene, random_scene, render  # noqa: E402

sys.path.insert(0, str(TOOLS_DIR / "train"))
from onednn_linear import use_onednn_linear  # noqa: E402
from shapes_data import TOKENIZER_DIR, normalise, pixels_uint8  # noqa: E402

OUT_DIR = TOOLS_DIR / "train" / "out"
IMAGE = 64
DECODER_SEED = 4321


def decoder_config(cross_attention_dim: int = 128, scaling_factor: float = 1.0) -> ImageDecoderConfig:
    return ImageDecoderConfig(
        unet=UNetConfig(
            block_out_channels=(24, 48), down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
            up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), layers_per_block=1, num_attention_heads=(2, 4),
            cross_attention_dim=cross_attention_dim, norm_num_groups=8, sample_size=IMAGE // 8,
        ),
        vae=VaeConfig(block_out_channels=(8, 16, 32, 32), layers_per_block=1, norm_num_groups=4, sample_size=IMAGE,
                      scaling_factor=scaling_factor),
        safety_checker=SafetyCheckerConfig(
            image_size=224, patch_size=32, hidden_size=16, intermediate_size=32, num_layers=2, num_heads=2,
            projection_dim=8,
        ),
        scheduler=SchedulerConfig(),
    )


def scene_pixels(scene: Scene) -> np.ndarray:
    """The scene drawn at 64x64 (anti-aliased as the scene says) -> uint8 [64, 64, 3]."""
    big = Scene(scene.objects, IMAGE, scene.supersample)
    return np.asarray(render(big).convert("RGB"), dtype=np.uint8)


def to_unit(pixels: np.ndarray) -> torch.Tensor:
    """uint8 [B, H, W, 3] -> [-1, 1] float [B, 3, H, W] (the VAE's range)."""
    return torch.from_numpy(pixels).permute(0, 3, 1, 2).to(torch.float32) / 127.5 - 1.0


def scenes(count: int, seed: int, single: float) -> List[Scene]:
    rng = random.Random(seed)
    return [random_scene(rng, sizes=(IMAGE,), count=1 if rng.random() < single else 2) for _ in range(count)]


def new_decoder(scaling_factor: float = 1.0) -> ImageDecoderModel:
    model = ImageDecoderModel(decoder_config(scaling_factor=scaling_factor))
    init_random_decoder_weights(model, DECODER_SEED)
    with torch.no_grad():  # thresholds above any cosine: the checker never flags a drawing
        model.safety_checker.concept_embeds_weights.fill_(2.0)
        model.safety_checker.special_care_embeds_weights.fill_(2.0)
    return model


def lr_at(step: int, progress: float, base: float, warmup: int) -> float:
    return base * min(1.0, step / warmup) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))


def train_vae(args: argparse.Namespace) -> None:
    started = time.monotonic()
    model = new_decoder()
    vae = model.vae
    pool = scenes(args.pool, args.seed, single=0.6)
    images = to_unit(np.stack([scene_pixels(s) for s in pool]))
    print(f"vae: {sum(p.numel() for p in vae.parameters())} parameters; {len(pool)} scenes in "
          f"{time.monotonic() - started:.0f}s", flush=True)
    optimizer = torch.optim.AdamW(vae.parameters(), lr=args.lr, weight_decay=0.0)
    rng = random.Random(args.seed)
    running: List[float] = []
    step = 0
    for step in range(1, args.steps + 1):
        progress = min(1.0, max(step / args.steps, (time.monotonic() - started) / (args.minutes * 60)))
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, progress, args.lr, 50)
        batch = images[[rng.randrange(len(pool)) for _ in range(args.batch)]]
        mean, std = vae.encode(batch)
        latents = mean + std * torch.randn_like(std)
        recon = vae.decode(latents)
        kl = 0.5 * (mean.pow(2) + std.pow(2) - 1 - 2 * torch.log(std)).mean()
        loss = F.mse_loss(recon, batch) + 1e-4 * kl
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
        optimizer.step()
        running.append(loss.item())
        if step % args.log_every == 0:
            print(f"vae step {step} {time.monotonic() - started:5.0f}s loss {sum(running) / len(running):.4f}",
                  flush=True)
            running = []
        if progress >= 1.0:
            break
    with torch.no_grad():
        means = torch.cat([vae.encode(images[i:i + 256])[0] for i in range(0, len(images), 256)])
    scaling = float(1.0 / means.std())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.save({"vae": vae.state_dict(), "scaling_factor": scaling, "seed": args.seed, "steps": step},
               out / "shapes-vae.pt")
    print(f"vae written to {out / 'shapes-vae.pt'} after {step} steps, {time.monotonic() - started:.0f}s; "
          f"scaling_factor {scaling:.4f}", flush=True)


def load_emu(checkpoint: Path) -> EmuModel:
    data = torch.load(checkpoint, map_location="cpu")
    model = EmuModel(EmuConfig.from_dict(data["config"]))
    model.load_state_dict(data["state_dict"])
    return model.eval()


def regressed(emu: EmuModel, tokenizer: SlowTokenizer, captions: List[str], chunk: int = 64) -> torch.Tensor:
    """The 32 embeddings the LLM regresses after `{caption}[IMG]` (the reference's loop) -> [N, 32, H]."""
    out = []
    image_start, pad = tokenizer.no_split_tokens["[IMG]"], tokenizer.no_split_tokens["[PAD]"]
    with torch.no_grad():
        for start in range(0, len(captions), chunk):
            prompts = [emu.embed(torch.tensor(tokenizer.encode(c + "[IMG]"))) for c in captions[start:start + chunk]]
            out.append(regress_image_embeddings(emu.forward, emu.embed, prompts, image_start=image_start, pad=pad))
    return torch.cat(out)


def train_unet(args: argparse.Namespace) -> None:
    started = time.monotonic()
    saved = torch.load(args.vae or Path(args.out) / "shapes-vae.pt", map_location="cpu")
    model = new_decoder(saved["scaling_factor"])
    model.vae.load_state_dict(saved["vae"])
    unet, vae = model.unet, model.vae
    if args.init is not None:
        earlier = torch.load(args.init, map_location="cpu")["state_dict"]
        unet.load_state_dict({key[len("unet."):]: value for key, value in earlier.items() if key.startswith("unet.")})
    emu = load_emu(args.checkpoint)
    tokenizer = SlowTokenizer(TOKENIZER_DIR / "tokenizer.model", "pretrain")
    pool = scenes(args.pool, args.seed + 1, single=0.75)
    latents, visual = [], []
    with torch.no_grad():
        for start in range(0, len(pool), 128):
            chunk = pool[start:start + 128]
            images = to_unit(np.stack([scene_pixels(s) for s in chunk]))
            latents.append(vae.encode(images)[0] * vae.config.scaling_factor)
            full = np.stack([pixels_uint8(render(s)) for s in chunk])  # the scene as Emu sees it (224)
            visual.append(emu.encode_images(normalise(full)))
    latents, visual = torch.cat(latents), torch.cat(visual)
    captions = sorted({s.caption for s in pool})
    index = {c: i for i, c in enumerate(captions)}
    text = regressed(emu, tokenizer, captions + [""])
    uncond = text[-1]
    caption_of = torch.tensor([index[s.caption] for s in pool])
    print(f"unet: {sum(p.numel() for p in unet.parameters())} parameters; {len(pool)} scenes, "
          f"{len(captions)} captions regressed in {time.monotonic() - started:.0f}s", flush=True)
    schedule = SchedulerConfig()
    betas = torch.linspace(schedule.beta_start ** 0.5, schedule.beta_end ** 0.5, schedule.num_train_timesteps) ** 2
    alphas_cumprod = torch.cumprod(1 - betas, 0)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=args.lr, weight_decay=0.01)
    generator = torch.Generator().manual_seed(args.seed)
    rng = random.Random(args.seed)
    running: List[float] = []
    step = 0
    unet.train()
    for step in range(1, args.steps + 1):
        progress = min(1.0, max(step / args.steps, (time.monotonic() - started) / (args.minutes * 60)))
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, progress, args.lr, 100)
        rows = torch.tensor([rng.randrange(len(pool)) for _ in range(args.batch)])
        which = torch.rand(args.batch, generator=generator)
        cond = torch.where((which < args.visual_share)[:, None, None], visual[rows], text[caption_of[rows]])
        cond = torch.where((which >= 0.9)[:, None, None], uncond.expand_as(cond), cond)
        x0 = latents[rows]
        t = torch.randint(0, schedule.num_train_timesteps, (args.batch,), generator=generator)
        noise = torch.randn(x0.shape, generator=generator)
        a = alphas_cumprod[t].view(-1, 1, 1, 1)
        noisy = a.sqrt() * x0 + (1 - a).sqrt() * noise
        loss = F.mse_loss(unet(noisy, t, cond), noise)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        optimizer.step()
        running.append(loss.item())
        if step % args.log_every == 0:
            print(f"unet step {step} {time.monotonic() - started:5.0f}s loss {sum(running) / len(running):.4f}",
                  flush=True)
            running = []
        if progress >= 1.0:
            break
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.save({"scaling_factor": saved["scaling_factor"], "state_dict": model.state_dict(),
                "seed": args.seed, "unet_steps": step, "vae_steps": saved["steps"]}, out / "shapes-decoder.pt")
    print(f"decoder written to {out / 'shapes-decoder.pt'} after {step} steps, {time.monotonic() - started:.0f}s",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", choices=("vae", "unet"), required=True)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--pool", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--visual-share", type=float, default=0.45,
                        help="unet: rows conditioned on the scene's visual embeddings; the rest but 10%% "
                             "(the empty prompt, for guidance) on the LLM's regression of its caption")
    parser.add_argument("--vae", type=Path, default=None, help="unet: the VAE checkpoint (default OUT/shapes-vae.pt)")
    parser.add_argument("--init", type=Path, default=None,
                        help="unet: start from the UNet of this decoder checkpoint (an earlier unet stage's)")
    parser.add_argument("--log-every", type=int, default=100)
    parser.add_argument("--checkpoint", type=Path, default=OUT_DIR / "shapes-emu.pt")
    parser.add_argument("--out", default=str(OUT_DIR))
    parser.add_argument("--smoke", action="store_true", help="a few steps on a few scenes")
    args = parser.parse_args()
    if args.smoke:
        args.steps, args.pool, args.log_every, args.minutes = 10, 64, 5, 2.0
    use_onednn_linear()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    (train_vae if args.stage == "vae" else train_unet)(args)


if __name__ == "__main__":
    main()
