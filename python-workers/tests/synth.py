"""Ground-truth audio made in code: click and drum tracks at known tempi, chord progressions and
rendered MIDI in known keys."""

from __future__ import annotations

import numpy as np

SR = 22050
NOTE_INDEX = {"C": 0, "C#": 1, "Db": 1, "D": 2, "D#": 3, "Eb": 3, "E": 4, "F": 5, "F#": 6, "Gb": 6,
              "G": 7, "G#": 8, "Ab": 8, "A": 9, "A#": 10, "Bb": 10, "B": 11}


def _place(track: np.ndarray, sound: np.ndarray, at_s: float, sr: int) -> None:
    start = int(round(at_s * sr))
    if start >= len(track):
        return
    end = min(len(track), start + len(sound))
    track[start:end] += sound[: end - start]


def click_track(bpm: float, seconds: float = 12.0, sr: int = SR) -> np.ndarray:
    track = np.zeros(int(seconds * sr))
    n = np.arange(int(0.03 * sr))
    click = np.sin(2 * np.pi * 1500 * n / sr) * np.exp(-n / (0.004 * sr))
    for beat, t in enumerate(np.arange(0.1, seconds, 60.0 / bpm)):
        _place(track, click * (0.8 if beat % 4 == 0 else 0.5), t, sr)
    return track


def drum_track(bpm: float, seconds: float = 12.0, sr: int = SR, seed: int = 0) -> np.ndarray:
    """Rock beat: kick on 1 and 3, snare on 2 and 4, closed hi-hat on every eighth note."""
    rng = np.random.default_rng(seed)
    n = np.arange(int(0.25 * sr))
    sweep = 50 + 90 * np.exp(-n / (0.03 * sr))
    kick = np.sin(2 * np.pi * np.cumsum(sweep) / sr) * np.exp(-n / (0.08 * sr))
    snare = (0.6 * rng.standard_normal(len(n)) + 0.5 * np.sin(2 * np.pi * 190 * n / sr)) * np.exp(-n / (0.05 * sr))
    hat_n = np.arange(int(0.05 * sr))
    hat = np.diff(rng.standard_normal(len(hat_n) + 1)) * np.exp(-hat_n / (0.01 * sr))
    track = np.zeros(int(seconds * sr))
    beat = 60.0 / bpm
    for i, t in enumerate(np.arange(0.1, seconds, beat)):
        _place(track, (kick if i % 2 == 0 else snare) * 0.7, t, sr)
        _place(track, hat * 0.15, t, sr)
        _place(track, hat * 0.1, t + beat / 2, sr)
    return track / np.max(np.abs(track)) * 0.8


def _tone(freq: float, seconds: float, sr: int) -> np.ndarray:
    """Additive synth: six harmonics falling as 1/k, short attack and release."""
    t = np.arange(int(seconds * sr)) / sr
    tone = sum(np.sin(2 * np.pi * k * freq * t) / k for k in range(1, 7) if k * freq < sr / 2)
    env = np.minimum(1.0, t / 0.02) * np.minimum(1.0, (seconds - t) / 0.08) * np.exp(-t / 1.5)
    return tone * env


def _midi_freq(midi: int) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


# Chords as (root degree in semitones above the tonic, chord quality).
MAJOR_PROGRESSION = [(0, "maj"), (5, "maj"), (7, "maj"), (0, "maj"), (9, "min"), (2, "min"), (7, "dom7"), (0, "maj")]
MINOR_PROGRESSION = [(0, "min"), (5, "min"), (7, "maj"), (0, "min"), (8, "maj"), (3, "maj"), (7, "dom7"), (0, "min")]
CHORD_INTERVALS = {"maj": (0, 4, 7), "min": (0, 3, 7), "dom7": (0, 4, 7, 10)}


def chord_progression(tonic: str, mode: str, chord_s: float = 1.0, sr: int = SR) -> np.ndarray:
    """Block chords in close position around middle C with the root doubled in the bass."""
    progression = MAJOR_PROGRESSION if mode == "major" else MINOR_PROGRESSION
    base = 60 + NOTE_INDEX[tonic]
    if base > 65:
        base -= 12
    track = np.zeros(int(len(progression) * chord_s * sr))
    for i, (degree, quality) in enumerate(progression):
        root = base + degree
        notes = [root + iv for iv in CHORD_INTERVALS[quality]] + [root - 12 if root < base + 6 else root - 24]
        for note in notes:
            _place(track, _tone(_midi_freq(note), chord_s, sr) * 0.2, i * chord_s, sr)
    return track / np.max(np.abs(track)) * 0.8


def rendered_midi(tonic: str, mode: str, sr: int = SR) -> np.ndarray:
    """A melody over a bass line written with pretty_midi and synthesised by it (sine voices)."""
    import pretty_midi

    scale = (0, 2, 4, 5, 7, 9, 11) if mode == "major" else (0, 2, 3, 5, 7, 8, 10)
    tonic_midi = 60 + NOTE_INDEX[tonic]
    melody_degrees = [0, 2, 4, 2, 3, 1, 6, 0, 4, 5, 4, 3, 2, 1, 0, 0]
    bass_degrees = [0, 3, 4, 0]
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    melody = pretty_midi.Instrument(program=0)
    bass = pretty_midi.Instrument(program=32)
    for i, d in enumerate(melody_degrees):
        pitch = tonic_midi + scale[d % 7] + 12 * (d // 7)
        melody.notes.append(pretty_midi.Note(velocity=90, pitch=pitch, start=i * 0.5, end=i * 0.5 + 0.45))
    for i, d in enumerate(bass_degrees * 2):
        pitch = tonic_midi - 24 + scale[d]
        bass.notes.append(pretty_midi.Note(velocity=100, pitch=pitch, start=i * 1.0, end=i * 1.0 + 0.95))
        third = tonic_midi - 12 + scale[(d + 2) % 7] + (12 if d + 2 >= 7 else 0)
        bass.notes.append(pretty_midi.Note(velocity=70, pitch=third, start=i * 1.0, end=i * 1.0 + 0.95))
    pm.instruments.extend([melody, bass])
    audio = pm.synthesize(fs=sr)
    return audio / np.max(np.abs(audio)) * 0.8
