#!/usr/bin/python3
"""Train the tiny Emu that knows shapes (issue 12) on synthetic scenes, CPU only, seeded.

    /usr/bin/python3 tools/train/train_shapes.py [--steps 6000] [--minutes 55] [--out tools/train/out]
    /usr/bin/python3 tools/train/train_shapes.py --smoke          # a minute: proves the script works

The model is the reference's Emu1 (tools/emu_reference: EVA ViT -> ln_visual -> Causal Former ->
LLaMA with lm_head and stu_regress_head) at `shapes_config()` below, with the shapes tokenizer
(tools/shapes/tokenizer.py; 1024 pieces + Emu-I's 6 added tokens). It trains end to end from a
seeded init on a seeded pool of scenes (tools/shapes/scenes.py), each step one task:

- answer   (Emu-I):  `{image system} [USER]: {image}{question} [ASSISTANT]:` -> ` {answer}</s>`
- describe (Emu-I):  the reference's captioning prompt `... The image depicts a photo of` -> ` {caption}</s>`
- pretrain (image first): `{image}` -> `{caption}</s>`
- regress  (pretrain, text first):  `{caption}[IMG]<image>x32[/IMG]`: the final hidden state at
  `[IMG]` and at each of the first 31 `<image>` slots regresses the next visual embedding through
  `stu_regress_head` (MSE to the Causal Former's output, detached), as Emu's pretraining does; 10%
  of captions are dropped (the unconditional branch of classifier-free guidance).

- probe    (training only): vision-only steps for an auxiliary linear read-out of the 32 visual
  embeddings (count, each object's colour and shape); with the probe on (default) its loss is
  also added to every other step. The probe is saved in the checkpoint, never exported.

Text losses are teacher-forced cross-entropy on the completion tokens only. Images: rendered at
48-224 px, resized to 224x224 by the reference's preprocessing (bicubic, CLIP normalisation);
the ViT uses 28-pixel patches (an 8x8 grid), so the bundle's manifest keeps image size 224 and the
engine's preprocessing is unchanged, while the ViT sees 65 tokens instead of 257. The patch
embedding trains as a block-constant kernel on 4x4-pooled images (`BlockPatchEmbed`, exact), and
F.linear runs through oneDNN when torch's BLAS is the generic one (`use_onednn_linear`).

The checkpoint becomes the instruct bundle (tools/train/export_shapes.py, the 1030-row vocabulary);
trained on with `--freeze-vision` (regression and captions, the vision side fixed) it becomes the
pretrain bundle (the first 1028 rows, no [USER]/[ASSISTANT]), as tools/train/train_all.sh runs.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

import torch
from torch.nn import functional as F

TOOLS_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TOOLS_DIR))

from emu_reference.config import CausalFormerConfig, EmuConfig, LlamaConfig, Variant, VisionConfig  # noqa: E402
from emu_reference.model import EmuModel, init_random_weights  # noqa: E402
from emu_reference.preprocess import IMAGE_SIZE  # noqa: E402
from emu_reference.tokenizer import SlowTokenizer  # noqa: E402
from shapes.scenes import COLOUR_NAMES, SHAPES, Scene  # noqa: E402

sys.path.insert(0, str(TOOLS_DIR / "train"))
from onednn_linear import use_onednn_linear  # noqa: E402
from shapes_data import BASE_VOCAB, TOKENIZER_DIR, Batcher, Pool, build_pool, sample_text  # noqa: E402
from stream_scenes import CHUNK_PATTERN, chunk_index, read_chunk  # noqa: E402


def shapes_config(variant: Variant = "instruct") -> EmuConfig:
    """Emu1's structure at shapes scale; the vocabulary is the shapes tokenizer's + Emu's tokens."""
    return EmuConfig(
        variant=variant,
        vision=VisionConfig(image_size=IMAGE_SIZE, patch_size=28, width=64, layers=2, head_width=16,
                            mlp_ratio=2.0, embed_dim=16),
        cformer=CausalFormerConfig(d_model=64, num_layers=2, num_heads=4, d_kv=16, d_ff=128, t5_vocab_size=8),
        llama=LlamaConfig(hidden_size=128, intermediate_size=256, num_layers=2, num_heads=4,
                          max_positions=2048, vocab_size=BASE_VOCAB + (6 if variant == "instruct" else 4)),
    )


class BlockPatchEmbed(torch.nn.Module):
    """The ViT's patch embedding, trained as a block-constant kernel.

    The exported weight is `low` upsampled F x F (each coarse weight repeated over an F x F block
    of the 28x28 kernel), so for a preprocessed 224x224 image x:
        conv(x, upsample(low), stride 28) == conv(avgpool_F(x), F*F * low, stride 28/F)
    exactly. Training therefore reads the scenes at 224/F px (their preprocessing done once, then
    pooled), a fraction of the full kernel's cost, while the bundle keeps Emu's 224x224 patch
    embedding and the engine's preprocessing unchanged."""

    def __init__(self, proj: torch.nn.Conv2d, factor: int) -> None:
        super().__init__()
        self.factor = factor
        self.stride = proj.kernel_size[0] // factor
        assert self.stride * factor == proj.kernel_size[0]
        # Block means of the current kernel: exact for a block-constant kernel (a resumed run).
        self.low = torch.nn.Parameter(F.avg_pool2d(proj.weight.detach(), factor).clone())
        self.bias = proj.bias

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        out = F.conv2d(pooled, self.low * (self.factor ** 2), self.bias, stride=self.stride)
        return out.flatten(2).transpose(1, 2)

    def full_weight(self) -> torch.Tensor:
        f = self.factor
        return self.low.detach().repeat_interleave(f, dim=2).repeat_interleave(f, dim=3).clone()


def encode_patches(model: EmuModel, patches: torch.Tensor) -> torch.Tensor:
    """model.encode_images from patch embeddings on: CLS, positions, ViT blocks, ln_visual, Causal Former."""
    visual = model.visual
    cls = visual.cls_token.expand(patches.shape[0], -1, -1)
    hidden = torch.cat((cls, patches), dim=1) + visual.pos_embed
    for block in visual.blocks:
        hidden = block(hidden)
    return model.cformer(model.ln_visual(hidden))


# The probe's classes: count (2), left colour (8), left shape (5), right colour (8 + none),
# right shape (5 + none).
PROBE_SPLITS = (2, len(COLOUR_NAMES), len(SHAPES), len(COLOUR_NAMES) + 1, len(SHAPES) + 1)


def probe_labels(scene: Scene) -> List[int]:
    objs = scene.objects
    right = objs[1] if len(objs) == 2 else None
    return [len(objs) - 1, COLOUR_NAMES.index(objs[0].colour), SHAPES.index(objs[0].shape),
            len(COLOUR_NAMES) if right is None else COLOUR_NAMES.index(right.colour),
            len(SHAPES) if right is None else SHAPES.index(right.shape)]


def probe_loss(probe: torch.nn.Linear, image_embeds: torch.Tensor, scenes: List[Scene]) -> torch.Tensor:
    """Auxiliary loss (training only, not exported): a linear read-out of the 32 visual embeddings
    must tell the count and each object's colour and shape. It gives the vision tower a direct
    signal from the first step instead of only through the LLM's text losses."""
    features = image_embeds.flatten(1)
    logits = probe(F.layer_norm(features, features.shape[1:])).split(PROBE_SPLITS, dim=1)
    labels = torch.tensor([probe_labels(scene) for scene in scenes])
    return sum(F.cross_entropy(part, labels[:, k]) for k, part in enumerate(logits))


def model_step(model: EmuModel, embed: BlockPatchEmbed, batcher: Batcher, pool: Pool, kind: str,
               indices: List[int], rng: random.Random,
               probe: torch.nn.Linear | None = None,
               frozen_embeds: torch.Tensor | None = None) -> Tuple[torch.Tensor, Dict[str, float]]:
    if frozen_embeds is not None:
        image_embeds = frozen_embeds[indices]
    else:
        image_embeds = encode_patches(model, embed(pool.pooled[indices]))  # [B, 32, H]
    extra: Dict[str, float] = {}
    aux = torch.zeros(())
    if probe is not None:
        aux = probe_loss(probe, image_embeds, [pool.scenes[i] for i in indices])
        extra["probe"] = aux.item()
    if kind == "probe":  # a vision-only step: a fraction of a text step's cost
        return aux, extra
    if kind == "regress":
        captions = ["" if rng.random() < 0.1 else pool.scenes[i].caption for i in indices]
        rows = [batcher.regress_example(c) for c in captions]
        ids = batcher.pad_rows(rows, batcher.pad)
        lengths = torch.tensor([len(r) for r in rows])
    else:
        examples = [batcher.text_example(kind, *sample_text(kind, pool.scenes[i], rng)) for i in indices]
        ids = batcher.pad_rows([e[0] for e in examples], batcher.pad)
        targets = batcher.pad_rows([e[1] for e in examples], -100)
        lengths = torch.tensor([len(e[0]) for e in examples])
    positions = torch.arange(ids.shape[1]).unsqueeze(0).expand(ids.shape[0], -1)
    mask = (positions < lengths[:, None]).long()
    embeds = model.embed(ids)
    slots = ids == batcher.image_id
    embeds = embeds.masked_scatter(slots.unsqueeze(-1), image_embeds.reshape(-1, image_embeds.shape[-1]))
    # The decoder as model.forward runs it, with the heads applied only where a loss is taken
    # (the same numbers; the other positions' logits would be thrown away).
    hidden, _ = model.lm.run_layers(embeds, mask, positions, model.lm.empty_past(ids.shape[0]), 0)
    if kind == "regress":
        # Predictions at [IMG] and the first 31 <image> slots; targets: the 32 visual embeddings.
        starts = (ids == batcher.img_start).nonzero()
        cols = starts[:, 1:2] + torch.arange(32)[None, :]
        predicted = model.lm.stu_regress_head(model.lm.model.norm(hidden[starts[:, 0:1], cols]))  # [B, 32, H]
        target = image_embeds.detach()
        loss = F.mse_loss(predicted, target) / target.pow(2).mean().clamp(min=1e-6)
        return loss + aux, {"regress": loss.item(), **extra}
    selected = targets != -100
    logits = model.lm.lm_head(model.lm.model.norm(hidden[selected]))
    loss = F.cross_entropy(logits, targets[selected])
    return loss + aux, {kind: loss.item(), **extra}


TASKS = (("answer", 0.38), ("describe", 0.22), ("pretrain", 0.25), ("regress", 0.15))
PROBE_TASK_WEIGHT = 0.5  # vision-only probe steps, besides the probe loss on every step (--no-probe: none)


def sincos_positions(shape: torch.Size, rms: float) -> torch.Tensor:
    """The ViT's position embeddings [1, 1 + G*G, W] as 2D sine-cosine waves (the CLS row zero),
    scaled to `rms` per element. A random init is unstructured and small next to the patch
    embeddings (norms of about 5 against 250 after the joint stage), which left the model
    naming the two shapes of a scene in the wrong order; sine-cosine rows carry each patch's
    column and row as smooth features from the first step."""
    _, tokens, width = shape
    grid = int(round((tokens - 1) ** 0.5))
    quarter = width // 4
    frequencies = 1.0 / (grid ** (torch.arange(quarter, dtype=torch.float32) / quarter))
    rows, cols = torch.meshgrid(torch.arange(grid, dtype=torch.float32), torch.arange(grid, dtype=torch.float32),
                                indexing="ij")
    angles_x = cols.reshape(-1, 1) * frequencies
    angles_y = rows.reshape(-1, 1) * frequencies
    table = torch.cat((angles_x.sin(), angles_x.cos(), angles_y.sin(), angles_y.cos()), dim=1)
    table = table * (rms / table.pow(2).mean().sqrt())
    return torch.cat((torch.zeros(1, width), table), dim=0).unsqueeze(0)


def take_streamed(pool: Pool, directory: Path, taken: set) -> None:
    """Add the chunks stream_scenes.py has written since the last call to the pool's ring."""
    for path in sorted(directory.glob(CHUNK_PATTERN), key=chunk_index):
        if chunk_index(path) in taken:
            continue
        try:
            pool.add(*read_chunk(path))
        except (FileNotFoundError, EOFError):  # removed by the streamer's cleanup meanwhile
            continue
        taken.add(chunk_index(path))


def newest_streamed(directory: Path, count: int) -> Pool:
    """A pool of the newest `count` scenes stream_scenes.py left in `directory`."""
    paths = sorted(directory.glob(CHUNK_PATTERN), key=chunk_index, reverse=True)
    scenes, pooled = [], []
    for path in paths:
        if len(scenes) >= count:
            break
        chunk_scenes, chunk_pooled = read_chunk(path)
        scenes += chunk_scenes
        pooled.append(chunk_pooled)
    if not scenes:
        raise SystemExit(f"--pool-from {directory}: no {CHUNK_PATTERN} files there (run stream_scenes.py)")
    return Pool(scenes[:count], torch.cat(pooled)[:count])


def train(args: argparse.Namespace) -> Path:
    use_onednn_linear()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    started = time.monotonic()
    tokenizer = SlowTokenizer(TOKENIZER_DIR / "tokenizer.model", "instruct")
    assert tokenizer.base_vocab_size == BASE_VOCAB
    batcher = Batcher(tokenizer)
    config = shapes_config("instruct")
    model = EmuModel(config)
    init_random_weights(model, args.seed)
    if args.sincos_positions:
        with torch.no_grad():
            model.visual.pos_embed.copy_(sincos_positions(model.visual.pos_embed.shape, args.sincos_positions))
    if args.resume is not None:
        # Continue a run (same frozen patch embedding: it is the seed's init in both).
        model.load_state_dict(torch.load(args.resume, map_location="cpu")["state_dict"])
        print(f"resumed from {args.resume}", flush=True)
    params = sum(p.numel() for p in model.parameters())
    print(f"model: {params / 1e6:.2f}M parameters; building a pool of {args.pool} scenes", flush=True)
    embed = BlockPatchEmbed(model.visual.patch_embed.proj, args.patch_pool)
    model.visual.patch_embed.proj.weight.requires_grad_(False)  # trained through embed.low
    if args.pool_from is not None:
        pool = newest_streamed(args.pool_from, args.pool)
    else:
        pool = build_pool(args.pool, args.seed if args.pool_seed is None else args.pool_seed, args.patch_pool,
                          args.pool_capacity)
    print(f"pool of {len(pool)} ready in {time.monotonic() - started:.0f}s", flush=True)
    streamed = set()
    probe = torch.nn.Linear(32 * config.llama.hidden_size, sum(PROBE_SPLITS)) if args.probe else None
    frozen_embeds = None
    if args.freeze_vision:
        # The pretrained variant's stage: the visual embeddings (the regression's targets) stay as
        # they are, so they are computed once for the pool and only the LLM learns.
        for part in (model.visual, model.ln_visual, model.cformer):
            part.requires_grad_(False)
        with torch.no_grad():
            frozen_embeds = torch.cat([encode_patches(model, embed(pool.pooled[start:start + 256]))
                                       for start in range(0, len(pool.scenes), 256)])
        print(f"visual embeddings of the pool computed in {time.monotonic() - started:.0f}s", flush=True)
    trained = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if not args.freeze_vision:
        trained.append(("patch_low", embed.low))
    if probe is not None:
        saved = torch.load(args.resume, map_location="cpu").get("probe") if args.resume is not None else None
        if saved is not None:
            probe.load_state_dict(saved)
        trained += [(f"probe.{n}", p) for n, p in probe.named_parameters()]
    positions = [p for n, p in trained if n == "visual.pos_embed"]
    decay = [p for n, p in trained if p.dim() >= 2 and "embed" not in n]
    other = [p for n, p in trained if not (p.dim() >= 2 and "embed" not in n) and n != "visual.pos_embed"]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": other, "weight_decay": 0.0},
                                   {"params": positions, "weight_decay": 0.0, "lr_scale": args.position_lr}],
                                  lr=args.lr, betas=(0.9, 0.98))
    tasks = TASKS if args.tasks is None else tuple((name, float(weight)) for name, weight in
                                                   (item.split("=") for item in args.tasks.split(",")))
    kinds, weights = zip(*(tasks + ((("probe", PROBE_TASK_WEIGHT),) if args.probe else ())))
    history: List[Dict[str, float]] = []
    running: Dict[str, List[float]] = {}
    step = 0
    model.train()
    for step in range(1, args.steps + 1):
        # The schedule follows steps or the time box, whichever is further along, so a run on a
        # slower (or shared) machine still ends with a decayed learning rate.
        progress = min(1.0, max(step / args.steps, (time.monotonic() - started) / (args.minutes * 60)))
        lr = args.lr * min(1.0, step / args.warmup) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))
        for group in optimizer.param_groups:
            group["lr"] = lr * group.get("lr_scale", 1.0)
        if args.fresh_scenes is not None and step % 20 == 1:
            take_streamed(pool, args.fresh_scenes, streamed)
        kind = rng.choices(kinds, weights)[0]
        indices = [rng.randrange(len(pool)) for _ in range(args.batch)]
        loss, parts = model_step(model, embed, batcher, pool, kind, indices, rng, probe, frozen_embeds)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for _, p in trained], 1.0)
        optimizer.step()
        for key, value in parts.items():
            running.setdefault(key, []).append(value)
        if step % args.log_every == 0 or step == args.steps:
            means = {k: round(sum(v) / len(v), 4) for k, v in running.items()}
            elapsed = time.monotonic() - started
            history.append({"step": step, "seconds": round(elapsed), "lr": lr, **means,
                            **({"streamed_chunks": len(streamed)} if streamed else {})})
            fresh = f" streamed chunks {len(streamed)}" if streamed else ""
            print(f"step {step} {elapsed:6.0f}s lr {lr:.2e}{fresh} " + " ".join(f"{k} {v:.4f}" for k, v in means.items()),
                  flush=True)
            running = {}
        if progress >= 1.0:
            print(f"time box of {args.minutes} minutes reached at step {step}", flush=True)
            break
    if not args.freeze_vision:  # frozen, the kernel stays exactly as loaded
        with torch.no_grad():
            model.visual.patch_embed.proj.weight.copy_(embed.full_weight())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint = out / "shapes-emu.pt"
    torch.save({"config": config.to_dict(), "state_dict": model.state_dict(), "seed": args.seed,
                "probe": None if probe is None else probe.state_dict()}, checkpoint)
    (out / "train-log.json").write_text(json.dumps({"args": vars(args), "steps_done": step,
                                                    "seconds": round(time.monotonic() - started),
                                                    "history": history}, indent=1, default=str) + "\n")
    print(f"checkpoint written to {checkpoint} after {time.monotonic() - started:.0f}s", flush=True)
    return checkpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--minutes", type=float, default=55.0, help="stop early (checkpoint kept) after this long")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--pool", type=int, default=4000, help="training scenes (seeded)")
    parser.add_argument("--threads", type=int, default=1, help="1 is faster than 2 on a shared 2-core machine")
    parser.add_argument("--no-probe", dest="probe", action="store_false",
                        help="leave out the auxiliary linear probe loss on the visual embeddings")
    parser.add_argument("--patch-pool", type=int, default=4,
                        help="train the patch embedding as F x F blocks on F-pooled images (1: full kernel)")
    parser.add_argument("--resume", type=Path, default=None, help="continue from this checkpoint")
    parser.add_argument("--tasks", default=None,
                        help="task weights instead of the default mix, e.g. regress=0.85,pretrain=0.15")
    parser.add_argument("--freeze-vision", action="store_true",
                        help="train the LLM only (vision tower and Causal Former fixed): the pretrain stage")
    parser.add_argument("--pool-seed", type=int, default=None, help="scene pool seed (default: --seed)")
    parser.add_argument("--fresh-scenes", type=Path, default=None,
                        help="add the scene chunks stream_scenes.py writes here to the pool as they appear")
    parser.add_argument("--pool-capacity", type=int, default=0,
                        help="with --fresh-scenes: scenes kept at once; the oldest make room for new ones")
    parser.add_argument("--pool-from", type=Path, default=None,
                        help="the pool: the newest --pool scenes stream_scenes.py left in this directory")
    parser.add_argument("--sincos-positions", type=float, default=0.0, metavar="RMS",
                        help="start the ViT's position embeddings as 2D sine-cosine waves of this RMS (0: random)")
    parser.add_argument("--position-lr", type=float, default=1.0,
                        help="learning rate multiplier for the ViT's position embeddings")
    parser.add_argument("--log-every", type=int, default=100)
    parser.add_argument("--out", default=str(TOOLS_DIR / "train" / "out"))
    parser.add_argument("--smoke", action="store_true", help="40 steps on 200 scenes")
    args = parser.parse_args()
    if args.smoke:
        args.steps, args.pool, args.log_every, args.warmup, args.minutes = 20, 200, 5, 5, 3.0
    train(args)


if __name__ == "__main__":
    main()
