"""Benchmark: analysis seconds per minute of audio (goal: under 5 s).

    $(./setup.sh | tail -1)/bin/python bench_analyzer.py [--minutes 2] [--repeat 3]

Synthesises a stereo 44.1 kHz track (rock drums over a chord progression), then times
(1) the analysis in-process, all features, after one warm-up run: the best of --repeat runs;
(2) the whole CLI process as the TypeScript worker spawns it, imports and JIT caches included.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE / "tests")]

from switchforge_audio import analyzer  # noqa: E402
from switchforge_audio.audio_io import read_audio  # noqa: E402
from switchforge_audio.protocol import Progress  # noqa: E402
from synth import SR, chord_progression, drum_track  # noqa: E402


def make_track(minutes: float) -> np.ndarray:
    import librosa

    seconds = minutes * 60
    chords = chord_progression("D", "major", chord_s=2.0)
    music = np.tile(chords, int(np.ceil(seconds * SR / len(chords))))[: int(seconds * SR)]
    mono = 0.6 * music + 0.4 * drum_track(112, seconds=seconds)
    stereo = np.stack([mono, np.roll(mono, 200)])
    return librosa.resample(stereo, orig_sr=SR, target_sr=44100).T * 0.8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.wav")
        sf.write(path, make_track(args.minutes), 44100, subtype="PCM_16")

        def once() -> float:
            start = time.perf_counter()
            analyzer.analyze(read_audio(path), analyzer.FEATURES, Progress(enabled=False))
            return time.perf_counter() - start

        once()
        in_process = min(once() for _ in range(args.repeat))

        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "switchforge_audio.analyzer", "--input", path],
                              capture_output=True, text=True, cwd=HERE,
                              env={**os.environ, "PYTHONPATH": str(HERE)})
        cli = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(f"analyzer failed: {proc.stderr}")

    print(f"audio: {args.minutes:g} min stereo 44.1 kHz, all features, {os.cpu_count()} CPU(s)")
    print(f"in-process analysis: {in_process / args.minutes:.2f} s per minute of audio")
    print(f"CLI process (startup included): {cli / args.minutes:.2f} s per minute of audio ({cli:.2f} s total)")


if __name__ == "__main__":
    main()
