"""The analyzer's process contract: JSON lines on stdout, exit codes, typed errors on stderr."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import soundfile as sf

from synth import SR, chord_progression, click_track


@pytest.fixture(scope="module")
def song(tmp_path_factory):
    """Stereo 44.1 kHz file: a 120 BPM click over an A minor progression, a chord on every beat
    (chords changing every other beat make 60 BPM as periodic as 120: a metrical ambiguity the
    accuracy tests and the benchmark measure, not what this test of the CLI is about)."""
    path = tmp_path_factory.mktemp("audio") / "song.wav"
    music = np.tile(chord_progression("A", "minor", chord_s=0.5), 2) * 0.7
    clicks = click_track(120, seconds=len(music) / SR) * 0.5
    mono = (music + clicks[: len(music)]) / 1.2
    stereo = np.stack([mono, mono], axis=1)
    import librosa

    sf.write(path, librosa.resample(stereo.T, orig_sr=SR, target_sr=44100).T, 44100, subtype="PCM_16")
    return path


def test_analyzer_prints_progress_then_one_result_with_every_feature(worker, song):
    run = worker("analyzer", "--input", str(song))
    assert run.returncode == 0, run.stderr
    *progress, result = run.stdout_lines
    assert all(line["type"] == "progress" for line in progress)
    percents = [line["percent"] for line in progress]
    assert percents == sorted(percents) and percents[0] == 0
    assert result["type"] == "result"
    assert result["duration_s"] == pytest.approx(8.0, abs=0.01)
    assert result["tempo"]["bpm"] == pytest.approx(120, rel=0.04)
    assert result["key"] == {"tonic": "A", "mode": "minor", "label": "A minor",
                             "confidence": result["key"]["confidence"]}
    assert -40 < result["loudness_lufs"] < 0
    assert 0 < result["energy"] < 1
    assert 0 < result["spectral"]["centroid_hz"] < result["spectral"]["rolloff_hz"] < 11025
    assert result["onset_rate"] > 0


def test_analyzer_leaves_out_features_not_asked_for(worker, song):
    run = worker("analyzer", "--input", str(song), "--features", "loudness,energy", "--no-progress")
    assert run.returncode == 0, run.stderr
    assert len(run.stdout_lines) == 1
    assert set(run.stdout_lines[0]) == {"type", "duration_s", "loudness_lufs", "energy"}


def test_silence_gives_null_measurements_not_errors(worker, tmp_path):
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(SR * 3), SR)
    run = worker("analyzer", "--input", str(path), "--no-progress")
    assert run.returncode == 0, run.stderr
    result = run.stdout_lines[-1]
    assert result["tempo"]["bpm"] is None and result["loudness_lufs"] is None
    assert result["key"]["label"] is None and result["energy"] == 0.0


TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def test_a_traced_run_times_each_phase_in_span_lines_and_an_untraced_one_does_not(worker, song, monkeypatch):
    monkeypatch.setenv("TRACEPARENT", TRACEPARENT)
    began = time.time()
    run = worker("analyzer", "--input", str(song), "--features", "tempo,key,loudness")
    ended = time.time()
    assert run.returncode == 0, run.stderr
    spans = [line for line in run.stdout_lines if line["type"] == "span"]
    assert [s["name"] for s in spans] == ["analyzer.decode", "analyzer.import", "analyzer.resample",
                                          "analyzer.spectrogram", "analyzer.tempo", "analyzer.key",
                                          "analyzer.loudness"]
    for span in spans:
        assert began <= span["start"] <= span["end"] <= ended, span
    assert all(a["end"] <= b["start"] for a, b in zip(spans, spans[1:])), "phases run one after another"
    assert spans[0]["attributes"] == {"audio.duration_s": pytest.approx(8.0, abs=0.01), "audio.sample_rate": 44100}
    assert run.stdout_lines[-1]["type"] == "result"

    monkeypatch.delenv("TRACEPARENT")
    untraced = worker("analyzer", "--input", str(song), "--features", "energy")
    assert untraced.returncode == 0, untraced.stderr
    assert {line["type"] for line in untraced.stdout_lines} == {"progress", "result"}


def test_a_phase_that_fails_is_still_sent_and_names_its_error(capsys, monkeypatch):
    from switchforge_audio.protocol import Spans

    monkeypatch.setenv("TRACEPARENT", TRACEPARENT)
    with pytest.raises(ValueError):
        with Spans().phase("analyzer.key", frames=3):
            raise ValueError("no chroma")
    line = json.loads(capsys.readouterr().out)
    assert line["type"] == "span" and line["name"] == "analyzer.key"
    assert line["attributes"] == {"frames": 3, "error": "ValueError"}


def _truncated_wav(path):
    sf.write(path, np.sin(np.arange(SR * 2) / 10.0) * 0.5, SR, subtype="PCM_16")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _mp3_bytes(seconds: float = 2.0) -> bytes:
    import lameenc  # a dependency of demucs; encodes the MP3 that soundfile must decode

    encoder = lameenc.Encoder()
    encoder.set_bit_rate(128)
    encoder.set_in_sample_rate(44100)
    encoder.set_channels(1)
    encoder.set_quality(2)
    pcm = (np.sin(2 * np.pi * 440 * np.arange(int(44100 * seconds)) / 44100) * 8000).astype(np.int16)
    return encoder.encode(pcm.tobytes()) + encoder.flush()


def _header_only_wav(path):
    sf.write(path, np.zeros(0), SR, subtype="PCM_16")


BAD_INPUTS = [
    ("empty file", lambda p: p.write_bytes(b""), "EmptyAudio", ()),
    ("WAV with no samples", _header_only_wav, "EmptyAudio", ()),
    ("truncated WAV", _truncated_wav, "CorruptAudio", ()),
    ("WAV header cut inside", lambda p: p.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt "), "CorruptAudio", ()),
    ("MP3 cut after its first frame", lambda p: p.write_bytes(_mp3_bytes()[:300]), "CorruptAudio", ()),
    ("text file", lambda p: p.write_text("this is not audio, it is a shopping list\n" * 20), "UnsupportedAudio", ()),
    ("audio longer than --max-seconds", lambda p: sf.write(p, np.zeros(SR * 3), SR), "TooLarge", ("--max-seconds", "2")),
    ("file larger than --max-bytes", lambda p: sf.write(p, np.zeros(SR), SR), "TooLarge", ("--max-bytes", "1000")),
    ("unknown feature", lambda p: sf.write(p, np.zeros(SR), SR), "InvalidArgument", ("--features", "tempo,colour")),
]


@pytest.mark.parametrize("case,make,code,extra", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_exits_2_with_one_typed_error_line(worker, tmp_path, case, make, code, extra):
    path = tmp_path / "input.wav"
    make(path)
    run = worker("analyzer", "--input", str(path), *extra)
    assert run.returncode == 2, (case, run.stderr)
    error = run.error()
    assert error["type"] == "error" and error["code"] == code, error
    assert error["message"]
    assert not [line for line in run.stdout_lines if line["type"] == "result"]


def test_mp3_and_six_channel_files_are_analysed(worker, tmp_path):
    mp3 = tmp_path / "tone.mp3"
    mp3.write_bytes(_mp3_bytes())
    surround = tmp_path / "surround.wav"
    sf.write(surround, np.tile(np.sin(np.arange(SR * 2) / 7.0)[:, None], (1, 6)) * 0.3, SR)
    for path in (mp3, surround):
        run = worker("analyzer", "--input", str(path), "--features", "loudness", "--no-progress")
        assert run.returncode == 0, run.stderr
        assert -30 < run.stdout_lines[-1]["loudness_lufs"] < 0


def test_missing_input_file_is_an_invalid_argument(worker, tmp_path):
    run = worker("analyzer", "--input", str(tmp_path / "nope.wav"))
    assert run.returncode == 2
    assert run.error()["code"] == "InvalidArgument"


def test_missing_required_argument_is_an_invalid_argument(worker):
    run = worker("analyzer")
    assert run.returncode == 2
    assert run.error()["code"] == "InvalidArgument"
