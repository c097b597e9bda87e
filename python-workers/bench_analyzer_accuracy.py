"""Benchmark: tempo and key accuracy of switchforge's analyzer beside librosa and essentia, on the
same held-out tracks in the same run.

    $(./setup-bench.sh | tail -1)/bin/python bench_analyzer_accuracy.py [--count 48] [--json out.json]

The held-out set is rendered by tests/songs.py from its own seed (HELD_OUT_SEED): tempos
stratified over 60-200 BPM, every one of the 24 keys, eight styles (drums only, bass and drums,
band, funk, swing, breakbeat, four-on-the-floor, keys without drums). The analyzer is tuned on
the tests' set (seed 1), never on this one. Scores: mir_eval Accuracy1 (tempo within 4 %) and
Accuracy2 (also at x2, x1/2, x3, x1/3), MIREX weighted key score and exact keys (harmonic styles
only), and analysis seconds per minute of audio (tempo and key only, in process).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE / "tests")]

from songs import SR, SongSpec, render, song_set  # noqa: E402

HELD_OUT_SEED = 20261203
PITCH_CLASSES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])

Estimator = Callable[[np.ndarray], tuple[float, str]]


def switchforge() -> Estimator:
    from switchforge_audio import analyzer
    from switchforge_audio.audio_io import Audio
    from switchforge_audio.protocol import Progress

    def run(y: np.ndarray) -> tuple[float, str]:
        r = analyzer.analyze(Audio(y.astype(np.float32)[:, None], SR), ("tempo", "key"), Progress(enabled=False))
        return float(r["tempo"]["bpm"] or 0.0), str(r["key"]["label"])
    return run


def librosa_peer() -> Estimator:
    """librosa's own tempo (feature.tempo, its default prior) and Krumhansl-Kessler profiles on
    CQT chroma: what a user of librosa gets without tuning."""
    import librosa

    def run(y: np.ndarray) -> tuple[float, str]:
        y = y.astype(np.float32)
        bpm = float(librosa.feature.tempo(y=y, sr=SR)[0])
        profile = librosa.feature.chroma_cqt(y=y, sr=SR).mean(axis=1)
        best = max(((np.corrcoef(profile, np.roll(t, k))[0, 1], f"{PITCH_CLASSES[k]} {m}")
                    for m, t in (("major", KK_MAJOR), ("minor", KK_MINOR)) for k in range(12)))
        return bpm, best[1]
    return run


def essentia_peer() -> Estimator:
    import essentia
    import essentia.standard as es

    essentia.log.infoActive = False
    rhythm = es.RhythmExtractor2013(method="multifeature")
    key = es.KeyExtractor(profileType="edma", sampleRate=44100)

    def run(y: np.ndarray) -> tuple[float, str]:
        import librosa

        # Both algorithms expect 44.1 kHz.
        y44 = librosa.resample(y.astype(np.float32), orig_sr=SR, target_sr=44100, res_type="soxr_hq")
        bpm = float(rhythm(y44)[0])
        tonic, scale, _ = key(y44)
        return bpm, f"{tonic} {scale}"
    return run


def score(specs: list[SongSpec], tracks: list[np.ndarray], estimate: Estimator) -> dict:
    import mir_eval

    acc1, acc2, keys, misses = [], [], [], []
    seconds = 0.0
    for spec, y in zip(specs, tracks):
        start = time.perf_counter()
        bpm, label = estimate(y)
        seconds += time.perf_counter() - start
        ok1 = abs(bpm - spec.bpm) <= 0.04 * spec.bpm
        ok2 = any(abs(bpm - f * spec.bpm) <= 0.04 * f * spec.bpm for f in (1, 2, 0.5, 3, 1 / 3))
        acc1.append(ok1)
        acc2.append(ok2)
        if not ok1:
            misses.append(f"{spec.name}: {bpm:.1f} BPM")
        if spec.has_key:
            label = label.replace("Db", "C#").replace("D#", "Eb").replace("Gb", "F#").replace("G#", "Ab").replace("A#", "Bb")
            k = mir_eval.key.weighted_score(spec.key, label)
            keys.append(k)
            if k < 1:
                misses.append(f"{spec.name}: {label}")
    audio_minutes = sum(s.seconds for s in specs) / 60
    return {"acc1": float(np.mean(acc1)), "acc2": float(np.mean(acc2)), "key_weighted": float(np.mean(keys)),
            "exact_keys": int(sum(k == 1.0 for k in keys)), "keyed_tracks": len(keys),
            "seconds_per_minute": seconds / audio_minutes, "misses": misses}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=48)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()

    specs = song_set(args.count, HELD_OUT_SEED, seconds=args.seconds)
    tracks = [render(s) for s in specs]
    peers: list[tuple[str, Callable[[], Estimator]]] = [
        ("switchforge analyzer", switchforge),
        ("librosa feature.tempo + Krumhansl chroma", librosa_peer),
        ("essentia RhythmExtractor2013(multifeature) + KeyExtractor(edma)", essentia_peer),
    ]
    rows = []
    for name, make in peers:
        try:
            estimate = make()
        except ImportError as e:
            rows.append({"analyzer": name, "error": f"not installed: {e}"})
            continue
        estimate(tracks[0])  # warm-up: imports, JIT caches
        rows.append({"analyzer": name, **score(specs, tracks, estimate)})

    keyed = sum(s.has_key for s in specs)
    print(f"held-out set: {len(specs)} tracks x {args.seconds:g} s (seed {HELD_OUT_SEED}), "
          f"{min(s.bpm for s in specs):g}-{max(s.bpm for s in specs):g} BPM, {keyed} in a key "
          f"({len({s.key for s in specs if s.has_key})} distinct); {os.cpu_count()} CPU(s)")
    print("| analyzer | tempo Acc1 | tempo Acc2 | key weighted | exact keys | s per audio min |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        if "error" in r:
            print(f"| {r['analyzer']} | {r['error']} | | | | |")
        else:
            print(f"| {r['analyzer']} | {r['acc1']:.3f} | {r['acc2']:.3f} | {r['key_weighted']:.3f} | "
                  f"{r['exact_keys']}/{r['keyed_tracks']} | {r['seconds_per_minute']:.2f} |")
    for r in rows:
        if r.get("misses"):
            print(f"{r['analyzer']} misses: " + "; ".join(r["misses"]))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
