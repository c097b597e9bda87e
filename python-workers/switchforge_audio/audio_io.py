"""Reading audio files with soundfile, turning every way a file can be bad into a typed error.

Limits are checked before decoding (file size, then the duration the header declares), so an
oversized upload is refused without reading it into memory.
"""

from __future__ import annotations

import contextlib
import os
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import soundfile as sf

from .protocol import AudioInputError

DEFAULT_MAX_BYTES = 2 * 1024**3
DEFAULT_MAX_SECONDS = 2 * 3600.0

# Leading bytes of containers libsndfile decodes: a file that starts like one of these but
# does not decode is corrupt; anything else is a format we do not support.
_AUDIO_MAGIC = (b"RIFF", b"RF64", b"FORM", b"fLaC", b"OggS", b"ID3", b".snd", b"caff", b"wvpk")


@dataclass(frozen=True)
class Audio:
    """Decoded samples, shape (frames, channels), float32 in [-1, 1]."""

    samples: np.ndarray
    sample_rate: int

    @property
    def duration_s(self) -> float:
        return self.samples.shape[0] / self.sample_rate

    def mono(self) -> np.ndarray:
        return self.samples.mean(axis=1) if self.samples.shape[1] > 1 else self.samples[:, 0]


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Silence what the C decoders (mpg123, libsndfile) print on fd 2 themselves: the contract
    is that stderr carries our one JSON error line, and their messages reach us as exceptions."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _looks_like_audio(head: bytes) -> bool:
    if head.startswith(_AUDIO_MAGIC):
        return True
    # A bare MPEG audio frame: 11 sync bits.
    return len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0


def _wav_truncation(path: str, size: int) -> str | None:
    """For RIFF/WAVE files, say how the file is cut short when the data chunk claims more bytes
    than the file holds (libsndfile would silently read what is there)."""
    with open(path, "rb") as f:
        header = f.read(12)
        if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
            return None
        offset = 12
        while offset + 8 <= size:
            f.seek(offset)
            chunk_id, chunk_size = struct.unpack("<4sI", f.read(8))
            if chunk_id == b"data":
                available = size - offset - 8
                if chunk_size != 0xFFFFFFFF and chunk_size > available:
                    return f"WAV data chunk declares {chunk_size} bytes but the file holds {available}"
                return None
            offset += 8 + chunk_size + (chunk_size & 1)
        return "WAV file has no data chunk"


def read_audio(
    path: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_seconds: float = DEFAULT_MAX_SECONDS,
) -> Audio:
    """Decode `path`, or raise AudioInputError saying why it cannot be used."""
    if not os.path.exists(path):
        raise AudioInputError("InvalidArgument", f"input file does not exist: {path}")
    if not os.path.isfile(path):
        raise AudioInputError("InvalidArgument", f"input is not a regular file: {path}")
    size = os.path.getsize(path)
    if size == 0:
        raise AudioInputError("EmptyAudio", "input file is empty (0 bytes)")
    if size > max_bytes:
        raise AudioInputError("TooLarge", f"input file is {size} bytes, the limit is {max_bytes}")
    with open(path, "rb") as f:
        head = f.read(16)

    try:
        with _quiet_native_stderr():
            info = sf.info(path)
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        if _looks_like_audio(head):
            raise AudioInputError("CorruptAudio", f"audio file cannot be decoded: {err}") from err
        raise AudioInputError("UnsupportedAudio", f"input is not a supported audio format: {err}") from err

    truncation = _wav_truncation(path, size)
    if truncation is not None:
        raise AudioInputError("CorruptAudio", f"audio file is truncated: {truncation}")
    if info.samplerate <= 0 or info.channels <= 0:
        raise AudioInputError("CorruptAudio", "audio header declares no sample rate or no channels")
    if info.frames > 0 and info.frames / info.samplerate > max_seconds:
        raise AudioInputError(
            "TooLarge",
            f"audio lasts {info.frames / info.samplerate:.1f} s, the limit is {max_seconds:g} s",
        )

    try:
        with _quiet_native_stderr():
            samples, sample_rate = sf.read(path, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as err:
        raise AudioInputError("CorruptAudio", f"audio file cannot be decoded: {err}") from err
    if samples.shape[0] == 0:
        raise AudioInputError("EmptyAudio", "audio file holds no samples")
    if samples.shape[0] / sample_rate > max_seconds:
        raise AudioInputError(
            "TooLarge", f"audio lasts {samples.shape[0] / sample_rate:.1f} s, the limit is {max_seconds:g} s"
        )
    # MP3 headers only estimate the frame count; the other formats state it exactly.
    if info.format not in ("MPEG", "MP3") and info.frames > 0 and samples.shape[0] < info.frames:
        raise AudioInputError(
            "CorruptAudio", f"audio file is truncated: decoded {samples.shape[0]} of {info.frames} frames"
        )
    if not np.all(np.isfinite(samples)):
        raise AudioInputError("CorruptAudio", "audio holds NaN or infinite samples")
    return Audio(samples=samples, sample_rate=int(sample_rate))


def add_limit_arguments(parser) -> None:  # parser: argparse.ArgumentParser
    parser.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES,
                        help="refuse input files larger than this (TooLarge)")
    parser.add_argument("--max-seconds", type=float, default=DEFAULT_MAX_SECONDS,
                        help="refuse audio longer than this (TooLarge)")
