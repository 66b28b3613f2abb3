"""train_all.sh's chain in miniature (each script's --smoke): streamed scenes, the Emu model taking
them in, its pretrained variant trained on with the vision side fixed on the streamed scenes, the
VAE and UNet, and the export of both bundles."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Dict

import torch

REPO = Path(__file__).resolve().parents[2]
TRAIN = REPO / "tools" / "train"
sys.path.insert(0, str(TRAIN))

from train_decoder import new_decoder  # noqa: E402


def run(script: str, *args: str) -> None:
    subprocess.run([sys.executable, str(TRAIN / script), *args], check=True, cwd=REPO,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_the_training_chain_exports_both_variants(tmp_path: Path) -> None:
    pretrain = tmp_path / "pretrain"
    scenes = tmp_path / "scenes"
    run("stream_scenes.py", "--smoke", "--out", str(scenes))
    assert sorted(path.name for path in scenes.iterdir()) == ["scenes-00000.pt", "scenes-00001.pt"]
    run("train_shapes.py", "--smoke", "--fresh-scenes", str(scenes), "--pool-capacity", "250", "--out", str(tmp_path))
    streamed = [entry for entry in json.loads((tmp_path / "train-log.json").read_text())["history"]
                if "streamed_chunks" in entry]
    assert streamed and streamed[-1]["streamed_chunks"] == 2
    run("train_shapes.py", "--smoke", "--resume", str(tmp_path / "shapes-emu.pt"), "--freeze-vision", "--no-probe",
        "--tasks", "regress=0.85,pretrain=0.15", "--pool-from", str(scenes), "--out", str(pretrain))
    run("train_decoder.py", "--stage", "vae", "--smoke", "--out", str(pretrain))
    visual = tmp_path / "visual-unet"
    run("train_decoder.py", "--stage", "unet", "--smoke", "--visual-share", "1.0",
        "--checkpoint", str(tmp_path / "shapes-emu.pt"), "--vae", str(pretrain / "shapes-vae.pt"), "--out", str(visual))
    run("train_decoder.py", "--stage", "unet", "--smoke", "--visual-share", "0.1", "--init",
        str(visual / "shapes-decoder.pt"), "--checkpoint", str(pretrain / "shapes-emu.pt"), "--out", str(pretrain))
    run("export_shapes.py", "--checkpoint", str(tmp_path / "shapes-emu.pt"),
        "--pretrain-checkpoint", str(pretrain / "shapes-emu.pt"), "--decoder", str(pretrain / "shapes-decoder.pt"),
        "--out", str(tmp_path / "bundles"))

    first = torch.load(tmp_path / "shapes-emu.pt", map_location="cpu")["state_dict"]
    second = torch.load(pretrain / "shapes-emu.pt", map_location="cpu")["state_dict"]
    vision = [key for key in first if key.startswith(("visual.", "ln_visual.", "cformer."))]
    language = [key for key in first if key.startswith("decoder.")]
    assert vision and language
    assert all(torch.equal(first[key], second[key]) for key in vision)
    assert any(not torch.equal(first[key], second[key]) for key in language)

    # The UNet's second run starts from its first: with no step taken, it is the first.
    def unet(path: Path) -> Dict[str, torch.Tensor]:
        state = torch.load(path, map_location="cpu")["state_dict"]
        return {key: value for key, value in state.items() if key.startswith("unet.")}

    run("train_decoder.py", "--stage", "unet", "--steps", "0", "--pool", "16",
        "--init", str(visual / "shapes-decoder.pt"), "--checkpoint", str(pretrain / "shapes-emu.pt"),
        "--vae", str(pretrain / "shapes-vae.pt"), "--out", str(tmp_path / "no-steps"))
    first_unet, unmoved = unet(visual / "shapes-decoder.pt"), unet(tmp_path / "no-steps" / "shapes-decoder.pt")
    fresh = {f"unet.{key}": value for key, value in new_decoder().unet.state_dict().items()}
    assert all(torch.equal(first_unet[key], unmoved[key]) for key in first_unet)
    assert any(not torch.equal(first_unet[key], fresh[key]) for key in first_unet)

    instruct = json.loads((tmp_path / "bundles" / "tiny-instruct" / "manifest.json").read_text())
    drawing = json.loads((tmp_path / "bundles" / "tiny-pretrain" / "manifest.json").read_text())
    assert instruct["variant"] == "instruct" and drawing["variant"] == "pretrain"
    assert instruct["source"]["checkpoint"] == f"{tmp_path.name}/shapes-emu.pt"
    assert drawing["source"]["checkpoint"] == "pretrain/shapes-emu.pt"
    assert drawing["image_decoder"] is not None
    assert drawing["generation"]["image"]["guidance_scale"] == 3.0
