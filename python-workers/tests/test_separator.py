"""The separator runs the real Demucs code path (demucs.api -> apply_model) with Demucs'
built-in untrained `demucs_unittest` model, which needs no download."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf


def _check_stream(lines):
    *progress, result = lines
    assert result["type"] == "result", "the result line comes last"
    assert progress and all(line["type"] == "progress" for line in progress)
    percents = [line["percent"] for line in progress]
    assert percents == sorted(percents), f"progress went backwards: {percents}"
    assert all(0 <= p <= 100 for p in percents)
    return progress, result


def test_separating_all_stems_writes_four_full_length_stems(worker, tmp_path):
    rate, seconds = 44100, 3
    t = np.arange(rate * seconds) / rate
    stereo = np.stack([np.sin(2 * np.pi * 220 * t), np.sign(np.sin(2 * np.pi * 2 * t))], axis=1) * 0.3
    source = tmp_path / "mix.wav"
    sf.write(source, stereo, rate)
    out = tmp_path / "stems"

    run = worker("separator", "--input", str(source), "--output-dir", str(out), "--model", "demucs_unittest",
                 "--segment", "1", "--shifts", "1", "--device", "cpu")
    assert run.returncode == 0, run.stderr
    progress, result = _check_stream(run.stdout_lines)
    assert len(progress) >= 5, "one progress line per separated chunk"
    assert progress[-1]["percent"] == 100
    assert result["model"] == "demucs_unittest" and result["device"] == "cpu"
    assert result["sample_rate"] == 44100
    assert set(result["stems"]) == {"drums", "bass", "other", "vocals"}
    for path in result["stems"].values():
        assert path.startswith(str(out))
        data, rate_out = sf.read(path, always_2d=True)
        assert rate_out == 44100 and data.shape == (rate * seconds, 2)
        assert np.all(np.isfinite(data))


def test_two_stem_split_of_a_mono_22k_file_is_resampled_to_the_model_rate(worker, tmp_path):
    rate = 22050
    source = tmp_path / "mono.flac"
    sf.write(source, np.sin(2 * np.pi * 330 * np.arange(rate * 2) / rate) * 0.3, rate)
    run = worker("separator", "--input", str(source), "--output-dir", str(tmp_path / "out"),
                 "--model", "demucs_unittest", "--stems", "vocals", "--shifts", "2")
    assert run.returncode == 0, run.stderr
    _, result = _check_stream(run.stdout_lines)
    assert set(result["stems"]) == {"vocals", "no_vocals"}
    for path in result["stems"].values():
        data, rate_out = sf.read(path, always_2d=True)
        assert rate_out == 44100 and data.shape == (44100 * 2, 2)


@pytest.mark.parametrize("args,code", [
    (("--stems", "kazoo"), "InvalidArgument"),
    (("--shifts", "-1"), "InvalidArgument"),
    (("--segment", "0"), "InvalidArgument"),
    (("--max-seconds", "0.5"), "TooLarge"),
], ids=["unknown stem", "negative shifts", "zero segment", "too long"])
def test_bad_separator_arguments_exit_2_with_a_typed_error(worker, tmp_path, args, code):
    source = tmp_path / "mix.wav"
    sf.write(source, np.zeros((44100, 2)), 44100)
    run = worker("separator", "--input", str(source), "--output-dir", str(tmp_path / "out"),
                 "--model", "demucs_unittest", *args)
    assert run.returncode == 2, run.stderr
    assert run.error()["code"] == code


def test_separator_refuses_a_text_file(worker, tmp_path):
    source = tmp_path / "notes.txt"
    source.write_text("not audio\n")
    run = worker("separator", "--input", str(source), "--output-dir", str(tmp_path / "out"), "--model", "demucs_unittest")
    assert run.returncode == 2
    assert run.error()["code"] == "UnsupportedAudio"


def test_a_model_file_from_repo_is_loaded_and_a_tampered_one_is_refused(worker, tmp_path):
    from demucs.pretrained import demucs_unittest
    from switchforge_audio.model_files import save_model_file

    repo = tmp_path / "models"
    repo.mkdir()
    model_file = save_model_file(demucs_unittest(), repo, "tiny")
    source = tmp_path / "mix.wav"
    sf.write(source, np.sin(2 * np.pi * 440 * np.arange(44100) / 44100)[:, None].repeat(2, 1) * 0.3, 44100)

    run = worker("separator", "--input", str(source), "--output-dir", str(tmp_path / "out"),
                 "--model", "tiny", "--repo", str(repo), "--device", "cpu")
    assert run.returncode == 0, run.stderr
    _, result = _check_stream(run.stdout_lines)
    assert result["model"] == "tiny" and set(result["stems"]) == {"drums", "bass", "other", "vocals"}

    model_file.write_bytes(model_file.read_bytes() + b"tampered")
    run = worker("separator", "--input", str(source), "--output-dir", str(tmp_path / "out2"),
                 "--model", "tiny", "--repo", str(repo))
    assert run.returncode == 2
    assert run.error()["code"] == "InvalidArgument" and "checksum" in run.error()["message"]


def test_a_repo_that_is_not_a_folder_is_an_invalid_argument(worker, tmp_path):
    source = tmp_path / "mix.wav"
    sf.write(source, np.zeros((44100, 2)), 44100)
    run = worker("separator", "--input", str(source), "--output-dir", str(tmp_path / "out"),
                 "--model", "tiny", "--repo", str(tmp_path / "missing"))
    assert run.returncode == 2
    assert run.error()["code"] == "InvalidArgument"


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


@pytest.mark.skipif(not _cuda_available(), reason="no CUDA device on this machine")
def test_auto_device_separates_on_cuda_when_a_gpu_is_present(worker, tmp_path):
    source = tmp_path / "mix.wav"
    sf.write(source, np.sin(2 * np.pi * 440 * np.arange(44100 * 2) / 44100)[:, None].repeat(2, 1) * 0.3, 44100)
    run = worker("separator", "--input", str(source), "--output-dir", str(tmp_path / "out"),
                 "--model", "demucs_unittest")
    assert run.returncode == 0, run.stderr
    _, result = _check_stream(run.stdout_lines)
    assert result["device"] == "cuda"
    for path in result["stems"].values():
        data, _ = sf.read(path, always_2d=True)
        assert data.shape == (44100 * 2, 2) and np.all(np.isfinite(data))
