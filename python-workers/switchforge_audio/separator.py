"""Split one audio file into stems with Demucs (through demucs.api).

    python -m switchforge_audio.separator --input song.flac --output-dir out/ \
        [--model htdemucs] [--repo DIR] [--stems all|vocals|drums|bass|other] [--shifts 1] \
        [--segment S] [--device auto|cpu|cuda]

Prints JSON lines on stdout: `{"type":"progress","percent","message"}` (percent never goes down)
and last `{"type":"result","stems":{"vocals":"/abs/vocals.wav",...},"model","device",
"sample_rate"}`; when traced (TRACEPARENT set), span lines time its phases (decode, load_model,
separate, write; see protocol.py). `--stems all` writes every source of the model; `--stems
vocals` (or any one source) writes two stems, that source and `no_<source>` (the sum of the
rest). Stems are 32-bit float WAV at the model's sample rate, so nothing is clipped.

Audio is decoded with soundfile; the model comes from `demucs.pretrained.get_model`, so
`demucs_unittest` (an untrained model built in code) needs no download, while pretrained
names are fetched into the torch/HuggingFace caches on first use, unless `--repo` names a
folder of model files (`<name>.th`, or `<name>-<sha256 prefix>.th` whose checksum is verified):
clusters without internet access put their models on a volume.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .audio_io import add_limit_arguments, read_audio
from .protocol import ArgumentParser, AudioInputError, Progress, Spans, exit_now, run_cli

# Share of the progress bar each phase takes.
_LOADED_AUDIO, _LOADED_MODEL, _SEPARATED, _WRITTEN = 5.0, 15.0, 95.0, 100.0


def _pick_device(requested: str) -> str:
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise AudioInputError("InvalidArgument", "--device cuda was asked for but CUDA is not available")
    return requested


def _max_segment(model: Any) -> float:
    from demucs.apply import BagOfModels
    from demucs.htdemucs import HTDemucs

    if isinstance(model, BagOfModels):
        return float(model.max_allowed_segment)
    if isinstance(model, HTDemucs):
        return float(model.segment)
    return float("inf")


class _SeparationProgress:
    """Turns demucs' per-chunk callbacks into a fraction of the whole job.

    Work is models x shifts passes over the track; each finished chunk advances its pass by the
    share of the track it covers. Chunks may finish out of order (jobs > 0), so the reporter
    keeps the running maximum."""

    def __init__(self, progress: Progress, shifts: int, segment_frames: int) -> None:
        self.progress = progress
        self.passes_per_model = max(shifts, 1)
        self.segment_frames = segment_frames
        self.done: dict[tuple[int, int], int] = {}

    def __call__(self, info: dict[str, Any]) -> None:
        if info.get("state") != "end":
            return
        models = max(int(info.get("models", 1)), 1)
        length = max(int(info.get("audio_length", 1)), 1)
        key = (int(info.get("model_idx_in_bag", 0)), int(info.get("shift_idx", 0)))
        covered = min(length, int(info.get("segment_offset", 0)) + self.segment_frames)
        self.done[key] = max(self.done.get(key, 0), covered)
        total_passes = models * self.passes_per_model
        fraction = sum(min(1.0, v / length) for v in self.done.values()) / total_passes
        self.progress.report(
            _LOADED_MODEL + (_SEPARATED - _LOADED_MODEL) * min(fraction, 1.0),
            f"separating (model {key[0] + 1}/{models}, pass {key[1] + 1}/{self.passes_per_model})",
        )


def separate(args: Any, progress: Progress, spans: Spans | None = None) -> dict[str, Any]:
    spans = spans or Spans(enabled=False)
    with spans.phase("separator.decode") as attrs:
        audio = read_audio(args.input, max_bytes=args.max_bytes, max_seconds=args.max_seconds)
        attrs.update({"audio.duration_s": round(audio.duration_s, 3), "audio.sample_rate": audio.sample_rate})
    progress.report(_LOADED_AUDIO, "decoded audio")

    with spans.phase("separator.load_model", model=args.model) as attrs:
        import soundfile as sf
        import torch
        from demucs.api import Separator
        from demucs.repo import ModelLoadingError

        device = _pick_device(args.device)
        attrs["device"] = device
        repo = None
        if args.repo is not None:
            repo = Path(args.repo)
            if not repo.is_dir():
                raise AudioInputError("InvalidArgument", f"--repo {args.repo!r} is not a folder")
        try:
            separator = Separator(model=args.model, repo=repo, device=device, shifts=args.shifts, split=True,
                                  segment=args.segment, progress=False)
        except ModelLoadingError as err:
            raise AudioInputError("InvalidArgument", f"cannot load Demucs model {args.model!r}: {err}") from err
        model = separator.model
        model.eval()
    sources: list[str] = list(model.sources)
    if args.stems != "all" and args.stems not in sources:
        raise AudioInputError("InvalidArgument",
                              f"--stems must be 'all' or one of {', '.join(sources)}; got {args.stems!r}")
    max_segment = _max_segment(model)
    if args.segment is not None and args.segment > max_segment:
        raise AudioInputError("InvalidArgument",
                              f"--segment {args.segment:g} exceeds the model's maximum of {max_segment:g} s")
    progress.report(_LOADED_MODEL, f"loaded model {args.model} on {device}")

    segment_s = args.segment if args.segment is not None else getattr(model, "segment", None)
    if segment_s is None or not np.isfinite(float(segment_s)):
        segment_s = audio.duration_s
    segment_frames = max(1, int(float(segment_s) * separator.samplerate))
    separator.update_parameter(callback=_SeparationProgress(progress, args.shifts, segment_frames))

    with spans.phase("separator.separate", shifts=args.shifts, segment_s=float(segment_s)):
        wav = torch.from_numpy(np.ascontiguousarray(audio.samples.T))
        _, stems = separator.separate_tensor(wav, audio.sample_rate)
    progress.report(_SEPARATED, "separated")

    if args.stems != "all":
        rest = sum(stem for name, stem in stems.items() if name != args.stems)
        stems = {args.stems: stems[args.stems], f"no_{args.stems}": rest}

    out_dir = os.path.abspath(args.output_dir)
    os.makedirs(out_dir, exist_ok=True)
    written: dict[str, str] = {}
    with spans.phase("separator.write", stems=len(stems)):
        for name, stem in stems.items():
            path = os.path.join(out_dir, f"{name}.wav")
            sf.write(path, stem.detach().cpu().numpy().T.astype(np.float32), separator.samplerate,
                     subtype="FLOAT")
            written[name] = path
            progress.report(_SEPARATED + (_WRITTEN - _SEPARATED) * len(written) / len(stems), f"wrote {name}")
    return {"type": "result", "stems": written, "model": args.model, "device": device,
            "sample_rate": int(separator.samplerate)}


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(text)
    return value


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = ArgumentParser(prog="python -m switchforge_audio.separator", description=__doc__.split("\n")[0])
    parser.add_argument("--input", required=True, help="audio file to separate")
    parser.add_argument("--output-dir", required=True, help="folder for the stem WAV files")
    parser.add_argument("--model", default="htdemucs", help="Demucs model name (demucs_unittest needs no download)")
    parser.add_argument("--repo", default=None, help="folder of Demucs model files to load --model from (offline)")
    parser.add_argument("--stems", default="all", help="'all', or one source for a two-stem split (e.g. vocals)")
    parser.add_argument("--shifts", type=_positive_int, default=1, help="random-shift passes averaged (quality vs time)")
    parser.add_argument("--segment", type=_positive_float, default=None, help="chunk length in seconds")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    add_limit_arguments(parser)
    args = parser.parse_args(argv)
    progress = Progress()
    progress.report(0, "reading audio")
    return separate(args, progress, Spans())


if __name__ == "__main__":
    exit_now(run_cli(main))
