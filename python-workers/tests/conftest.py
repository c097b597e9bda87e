"""Shared fixtures: running the workers as the TypeScript side does, and an accuracy summary
printed at the end of every run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
ACCURACY: dict[str, list[str]] = {}


@dataclass
class Run:
    returncode: int
    stdout_lines: list[dict[str, Any]]
    stderr: str

    def error(self) -> dict[str, Any]:
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, f"expected one error line on stderr, got: {self.stderr!r}"
        return json.loads(lines[0])


def run_worker(module: str, *args: str, timeout: float = 120) -> Run:
    # Keep an inherited PYTHONPATH (packages installed beside the venv) behind the project's root.
    inherited = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), inherited] if inherited else [str(ROOT)])}
    proc = subprocess.run([sys.executable, "-m", f"switchforge_audio.{module}", *args],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return Run(proc.returncode, lines, proc.stderr)


@pytest.fixture
def worker():
    return run_worker


def record_accuracy(name: str, line: str) -> None:
    ACCURACY.setdefault(name, []).append(line)


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001 - pytest hook
    if not ACCURACY:
        return
    terminalreporter.section("analysis accuracy (mir_eval)")
    for name, lines in ACCURACY.items():
        for line in lines:
            terminalreporter.write_line(f"{name}: {line}")
