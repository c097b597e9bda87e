"""Benchmark: Demucs separation real-time factor, per device (CUDA when present) and model.

    $(./setup.sh | tail -1)/bin/python bench_separator.py [--seconds 120] [--devices cuda,cpu]
        [--models demucs_unittest,htdemucs_arch] [--repeat 3] [--json figures.json]

Models: `demucs_unittest` (Demucs' built-in untrained model, tiny) and `htdemucs_arch`, the
Hybrid Transformer Demucs architecture at its default size with random weights. Its pretrained
weights (`htdemucs`) cannot be downloaded here, but the compute per second of audio depends on
the architecture, not on the weights' values, so it times what `htdemucs` costs.

For each model and device it times
(1) the separation alone, in-process (`demucs.apply.apply_model`, split into the model's
    segments with 25 % overlap, one shift), after a warm-up: the best of --repeat runs;
(2) the whole `switchforge_audio.separator` process as the audio worker spawns it: interpreter,
    imports, CUDA start, model load, decode, separation, writing four float WAV stems.
Real-time factor (RTF) = processing seconds / audio seconds: below 1 is faster than real time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from switchforge_audio.model_files import save_model_file  # noqa: E402

SOURCES = ["drums", "bass", "other", "vocals"]
RATE = 44100


def synth_track(seconds: float, seed: int = 0) -> np.ndarray:
    """Stereo music-like test signal: a chord progression, a bass line, clicks and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    chord_roots = np.array([220.0, 174.61, 261.63, 196.0])[(t // 2).astype(int) % 4]
    chords = sum(np.sin(2 * np.pi * chord_roots * ratio * t) for ratio in (1.0, 1.26, 1.5)) / 3
    bass = np.sin(2 * np.pi * chord_roots / 4 * t)
    beat = np.exp(-40 * (t % 0.5)) * rng.standard_normal(t.size)
    mono = 0.4 * chords + 0.3 * bass + 0.3 * beat
    return (np.stack([mono, np.roll(mono, 300)], axis=1) * 0.5).astype(np.float32)


def build_repo(folder: Path) -> None:
    import torch
    from demucs.htdemucs import HTDemucs

    torch.manual_seed(0)
    save_model_file(HTDemucs(sources=SOURCES), folder, "htdemucs_arch")


def load(name: str, repo: Path, device: str) -> Any:
    from demucs.pretrained import get_model

    model = get_model(name, repo=None if name == "demucs_unittest" else repo)
    return model.to(device).eval()


def separate_in_process(model: Any, wav: np.ndarray, device: str) -> float:
    import torch
    from demucs.apply import apply_model

    mix = torch.from_numpy(np.ascontiguousarray(wav.T))[None].to(device)
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    with torch.no_grad():
        out = apply_model(model, mix, shifts=1, split=True, overlap=0.25, progress=False, device=device)
    if device == "cuda":
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    assert out.shape[-1] == wav.shape[0] and bool(torch.isfinite(out).all())
    return elapsed


def separate_cli(name: str, repo: Path, wav_path: Path, out_dir: Path, device: str) -> float:
    args = [sys.executable, "-m", "switchforge_audio.separator", "--input", str(wav_path),
            "--output-dir", str(out_dir), "--model", name, "--device", device]
    if name != "demucs_unittest":
        args += ["--repo", str(repo)]
    start = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, cwd=HERE,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])})
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"separator failed ({proc.returncode}): {proc.stderr[-2000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["device"] == device and len(result["stems"]) == len(SOURCES), result
    return elapsed


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--devices", default="cuda,cpu" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--models", default="demucs_unittest,htdemucs_arch")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()

    figures: list[dict[str, Any]] = []
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    print(f"audio: {args.seconds:g} s stereo 44.1 kHz; torch {torch.__version__}; "
          f"{os.cpu_count()} CPU(s); GPU: {gpu or 'none'}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "models"
        repo.mkdir()
        build_repo(repo)
        wav = synth_track(args.seconds)
        wav_path = Path(tmp) / "mix.wav"
        sf.write(wav_path, wav, RATE, subtype="PCM_16")
        warmup = wav[: RATE * 10]
        for device in args.devices.split(","):
            for name in args.models.split(","):
                model = load(name, repo, device)
                params = sum(p.numel() for p in model.parameters())
                separate_in_process(model, warmup, device)
                in_process = min(separate_in_process(model, wav, device) for _ in range(args.repeat))
                del model
                if device == "cuda":
                    torch.cuda.empty_cache()
                cli = separate_cli(name, repo, wav_path, Path(tmp) / f"out-{device}-{name}", device)
                figure = {
                    "device": device, "gpu": gpu if device == "cuda" else None, "model": name,
                    "parameters": params, "audio_seconds": args.seconds,
                    "separation_seconds": round(in_process, 3),
                    "separation_rtf": round(in_process / args.seconds, 5),
                    "cli_seconds": round(cli, 3), "cli_rtf": round(cli / args.seconds, 5),
                }
                figures.append(figure)
                print(f"{device:4} {name:16} {params / 1e6:6.2f}M params: separation {in_process:7.3f} s "
                      f"(RTF {in_process / args.seconds:.4f}, {args.seconds / in_process:6.1f}x real time); "
                      f"whole separator process {cli:7.3f} s (RTF {cli / args.seconds:.4f})", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
