"""Multi-instrument songs rendered in code with known tempo and key: the ground truth the
analyzer is tuned on (the tests' set) and scored on (the benchmark's held-out set).

A song is fixed by its spec: tempo (quarter notes per minute, the annotated tempo), key, style
(which instruments play and how) and a seed that draws everything else: drum and synth timbres,
the chord progression, the bass and melody lines, levels and a little timing and velocity
humanisation. Only numpy is needed, so the benchmark's separate venv renders the same audio.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SR = 22050
PITCH_CLASSES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
KEYS = tuple(f"{tonic} {mode}" for mode in ("major", "minor") for tonic in PITCH_CLASSES)

# drums: kit only; bass+drums; band: drums, bass, chords and melody; funk: sixteenth hats,
# syncopated kick and bass, chord stabs; swing: shuffled (triplet) hats and walking bass;
# breakbeat: kick on 1 and the and-of-3, snare on 2 and 4 (drum and bass); four: kick on every
# beat, off-beat hats (house); keys: chords, arpeggios and bass without drums.
STYLES = ("drums", "bass+drums", "band", "funk", "swing", "breakbeat", "four", "keys")
HARMONIC_STYLES = tuple(s for s in STYLES if s != "drums")

MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)
# Progressions as (scale degree of the root, quality), one chord per bar; all cadence to the tonic.
MAJOR_PROGRESSIONS = (
    ((0, "maj"), (5, "maj"), (7, "dom7"), (0, "maj")),
    ((0, "maj"), (9, "min"), (5, "maj"), (7, "dom7")),
    ((0, "maj"), (7, "maj"), (9, "min"), (5, "maj")),
    ((0, "maj"), (2, "min"), (7, "dom7"), (0, "maj")),
    ((0, "maj7"), (5, "maj7"), (4, "min"), (7, "dom7")),
)
MINOR_PROGRESSIONS = (
    ((0, "min"), (5, "min"), (7, "dom7"), (0, "min")),
    ((0, "min"), (8, "maj"), (3, "maj"), (7, "dom7")),
    ((0, "min"), (10, "maj"), (8, "maj"), (7, "maj")),
    ((0, "min7"), (5, "min7"), (0, "min7"), (7, "dom7")),
    ((0, "min"), (3, "maj"), (5, "min"), (7, "dom7")),
)
CHORD_INTERVALS = {"maj": (0, 4, 7), "min": (0, 3, 7), "dom7": (0, 4, 7, 10), "maj7": (0, 4, 7, 11),
                   "min7": (0, 3, 7, 10)}


@dataclass(frozen=True)
class SongSpec:
    bpm: float
    key: str  # "<tonic> <major|minor>", mir_eval's spelling
    style: str
    seed: int
    seconds: float = 15.0

    @property
    def has_key(self) -> bool:
        return self.style in HARMONIC_STYLES

    @property
    def name(self) -> str:
        return f"{self.style} {self.bpm:g} BPM {self.key if self.has_key else ''}".strip()


def song_set(count: int, seed: int, bpm_range: tuple[float, float] = (60.0, 200.0),
             seconds: float = 15.0) -> list[SongSpec]:
    """`count` specs, tempos stratified over bpm_range (one uniform draw per equal-width stratum,
    shuffled), every key in turn on the harmonic styles, styles in turn; all drawn from `seed`."""
    rng = np.random.default_rng(seed)
    lo, hi = bpm_range
    edges = np.linspace(lo, hi, count + 1)
    bpms = rng.permutation(np.round(rng.uniform(edges[:-1], edges[1:]), 1))
    keys = list(rng.permutation(KEYS))
    specs = []
    key_index = 0
    for i in range(count):
        style = STYLES[i % len(STYLES)]
        key = keys[key_index % len(keys)]
        if style in HARMONIC_STYLES:
            key_index += 1
        specs.append(SongSpec(float(bpms[i]), str(key), style, int(rng.integers(1 << 30)), seconds))
    return specs


# --- sounds -------------------------------------------------------------------------------------

def _place(track: np.ndarray, sound: np.ndarray, at_s: float, sr: int, gain: float = 1.0) -> None:
    start = int(round(at_s * sr))
    if start < 0 or start >= len(track):
        return
    end = min(len(track), start + len(sound))
    track[start:end] += gain * sound[: end - start]


def _midi_freq(midi: float) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


class Kit:
    """One drum kit, its timbre drawn from rng."""

    def __init__(self, rng: np.random.Generator, sr: int):
        n = np.arange(int(0.35 * sr))
        low = rng.uniform(40, 65)
        sweep = low + rng.uniform(50, 150) * np.exp(-n / (rng.uniform(0.015, 0.04) * sr))
        self.kick = np.sin(2 * np.pi * np.cumsum(sweep) / sr) * np.exp(-n / (rng.uniform(0.05, 0.15) * sr))
        self.kick[: int(0.002 * sr)] += rng.uniform(0, 0.5) * rng.standard_normal(int(0.002 * sr))
        sn = np.arange(int(0.3 * sr))
        tone = np.sin(2 * np.pi * rng.uniform(150, 260) * sn / sr)
        noise = rng.standard_normal(len(sn))
        mix = rng.uniform(0.3, 0.8)
        self.snare = (mix * noise + (1 - mix) * tone) * np.exp(-sn / (rng.uniform(0.03, 0.09) * sr))
        if rng.random() < 0.4:  # a clap: three quick noise bursts
            clap = np.zeros(len(sn))
            for k in range(3):
                _place(clap, noise[: int(0.08 * sr)] * np.exp(-np.arange(int(0.08 * sr)) / (0.01 * sr)),
                       k * 0.011, sr)
            self.snare = 0.5 * self.snare + clap
        hn = np.arange(int(rng.uniform(0.04, 0.12) * sr))
        hat = np.diff(rng.standard_normal(len(hn) + 1))
        if rng.random() < 0.5:
            hat = np.diff(hat, prepend=0.0)  # brighter
        self.hat = hat / np.max(np.abs(hat)) * np.exp(-hn / (rng.uniform(0.008, 0.03) * sr))
        self.open_hat = np.diff(rng.standard_normal(int(0.3 * sr) + 1)) * np.exp(
            -np.arange(int(0.3 * sr)) / (0.08 * sr)) * 0.5
        self.levels = {"kick": rng.uniform(0.6, 1.0), "snare": rng.uniform(0.4, 0.9), "hat": rng.uniform(0.08, 0.3)}


def _voice(rng: np.random.Generator) -> dict:
    """A synth voice: harmonic weights, envelope shape."""
    kind = rng.choice(["saw", "square", "soft", "organ", "bright"])
    k = np.arange(1, 13)
    weights = {"saw": 1 / k, "square": np.where(k % 2 == 1, 1 / k, 0.0), "soft": 1 / k ** 2,
               "organ": np.where(np.isin(k, (1, 2, 3, 4, 6, 8)), 1.0, 0.0) / k ** 0.5,
               "bright": 1 / k ** 0.7}[str(kind)]
    return {"weights": weights * rng.uniform(0.7, 1.3, len(k)), "attack": rng.uniform(0.003, 0.04),
            "decay": rng.uniform(0.2, 2.0), "detune": rng.uniform(0, 0.004)}


def _note(voice: dict, midi: float, seconds: float, sr: int) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    f0 = _midi_freq(midi) * (1 + voice["detune"])
    tone = np.zeros_like(t)
    for k, w in enumerate(voice["weights"], start=1):
        if w > 0 and k * f0 < sr / 2 * 0.9:
            tone += w * np.sin(2 * np.pi * k * f0 * t)
    release = min(0.05, seconds / 4)
    env = np.minimum(1.0, t / voice["attack"]) * np.clip((seconds - t) / release, 0, 1) * np.exp(-t / voice["decay"])
    return tone * env


# --- arrangement --------------------------------------------------------------------------------

def render(spec: SongSpec, sr: int = SR) -> np.ndarray:
    """The song as mono float64 in [-0.9, 0.9]."""
    rng = np.random.default_rng(spec.seed)
    beat = 60.0 / spec.bpm
    n = int(spec.seconds * sr)
    drums, bass, chords, lead = (np.zeros(n) for _ in range(4))
    start = rng.uniform(0.05, 0.5)
    bars = int(np.ceil(spec.seconds / (4 * beat))) + 1
    jitter = rng.uniform(0.0, 0.008)  # humanised timing, seconds (standard deviation)
    swing = rng.uniform(0.6, 0.68) if spec.style == "swing" else 0.5

    def at(bar: int, beat_pos: float) -> float:
        whole, frac = divmod(beat_pos, 1.0)
        frac = swing * 2 * frac if frac <= 0.5 else swing + (1 - swing) * 2 * (frac - 0.5)
        return start + (4 * bar + whole + frac) * beat + rng.normal(0, jitter)

    def vel() -> float:
        return rng.uniform(0.8, 1.0)

    if spec.style != "keys":
        kit = Kit(rng, sr)
        lv = kit.levels
        for bar in range(bars):
            if spec.style in ("drums", "bass+drums", "band"):
                kicks, snares = (0, 2) if rng.random() < 0.7 else (0, 2, 2.5), (1, 3)
                hats = np.arange(0, 4, 0.5)
            elif spec.style == "funk":
                kicks, snares = (0, 0.75, 2.5), (1, 3)
                hats = np.arange(0, 4, 0.25)
            elif spec.style == "swing":
                kicks, snares = (0, 2), (1, 3)
                hats = np.arange(0, 4, 0.5)
            elif spec.style == "breakbeat":
                kicks, snares = (0, 2.5), (1, 3)
                hats = np.arange(0, 4, 0.5)
            else:  # four
                kicks, snares = (0, 1, 2, 3), (1, 3)
                hats = np.arange(0.5, 4, 1.0)
            for b in kicks:
                _place(drums, kit.kick, at(bar, b), sr, lv["kick"] * vel())
            for b in snares:
                _place(drums, kit.snare, at(bar, b), sr, lv["snare"] * vel())
            for b in hats:
                accent = 1.0 if b % 1 == 0 else rng.uniform(0.5, 0.9)
                sound = kit.open_hat if spec.style == "four" else kit.hat
                _place(drums, sound, at(bar, b), sr, lv["hat"] * accent * vel())

    if spec.has_key:
        tonic_name, mode = spec.key.split()
        tonic = 48 + PITCH_CLASSES.index(tonic_name)
        scale = MAJOR_SCALE if mode == "major" else MINOR_SCALE
        progression = (MAJOR_PROGRESSIONS if mode == "major" else MINOR_PROGRESSIONS)[
            rng.integers(len(MAJOR_PROGRESSIONS))]
        pad, bass_voice, lead_voice = _voice(rng), _voice(rng), _voice(rng)
        register = 12 * int(rng.integers(-1, 1))  # an octave lower or not
        for bar in range(bars):
            root, quality = progression[bar % len(progression)]
            chord = [tonic + 12 + register + root + iv for iv in CHORD_INTERVALS[quality]]
            chord = [c - 12 if c > tonic + 12 + 12 else c for c in chord]
            bass_root = tonic - 12 + root if root < 7 else tonic - 24 + root
            # chords: held pads, stabs (funk) or eighth-note arpeggios (keys)
            if spec.style == "funk":
                for b in (0.5, 1.75, 2.5, 3.25):
                    for c in chord:
                        _place(chords, _note(pad, c, beat * 0.25, sr), at(bar, b), sr, 0.25 * vel())
            elif spec.style == "keys":
                for i, b in enumerate(np.arange(0, 4, 0.5)):
                    c = chord[i % len(chord)] + (12 if i >= 4 else 0)
                    _place(chords, _note(pad, c, beat * 0.5, sr), at(bar, b), sr, 0.35 * vel())
            elif spec.style in ("band", "swing", "four", "breakbeat"):
                for c in chord:
                    _place(chords, _note(pad, c, 4 * beat, sr), at(bar, 0), sr, 0.2)
            # bass
            if spec.style == "swing":  # walking: root, scale tones, approach
                line = [bass_root, bass_root + 4 if quality.startswith("maj") or quality == "dom7" else bass_root + 3,
                        bass_root + 7, bass_root + rng.choice([5, 9, 10, 11])]
                positions = (0, 1, 2, 3)
            elif spec.style == "funk":
                line, positions = [bass_root, bass_root + 12, bass_root, bass_root + 7], (0, 0.75, 1.5, 2.5)
            elif spec.style == "four":
                line, positions = [bass_root] * 4, (0.5, 1.5, 2.5, 3.5)
            else:
                line, positions = [bass_root] * 4 + [bass_root + 7] * 2 + [bass_root] * 2, tuple(np.arange(0, 4, 0.5))
            for p, b in zip(line, positions):
                _place(bass, _note(bass_voice, p, beat * 0.45, sr), at(bar, b), sr, 0.5 * vel())
            # melody: scale tones around the chord, in band, swing and keys
            if spec.style in ("band", "swing", "keys"):
                for b in range(4):
                    degree = int(rng.integers(0, 8))
                    pitch = tonic + 24 + register + scale[degree % 7] + 12 * (degree // 7)
                    if b == 0:
                        pitch = chord[int(rng.integers(len(chord)))] + 12
                    _place(lead, _note(lead_voice, pitch, beat * 0.9, sr), at(bar, b), sr, 0.25 * vel())

    parts = [(drums, rng.uniform(0.6, 1.0)), (bass, rng.uniform(0.4, 0.9)),
             (chords, rng.uniform(0.3, 0.8)), (lead, rng.uniform(0.2, 0.6))]
    mix = np.zeros(n)
    for part, gain in parts:
        peak = np.max(np.abs(part))
        if peak > 0:
            mix += gain * part / peak
    mix += rng.uniform(0, 0.003) * rng.standard_normal(n)  # noise floor
    return mix / np.max(np.abs(mix)) * 0.9
