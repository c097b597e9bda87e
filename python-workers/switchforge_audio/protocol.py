"""JSON-lines protocol shared by the workers: progress, span, result and error messages.

Span lines `{"type":"span","name","start","end","attributes"}` (epoch seconds) time a worker's
phases. They are written only when the caller traces the run, i.e. passes a W3C `TRACEPARENT`
in the environment; the TypeScript side records them as child spans of that run's span, so the
venv needs no OpenTelemetry package.

Bad input is an `AudioInputError`: exit code 2 and one JSON error line on stderr, so the
TypeScript side can fail the job without retrying. Anything else is a bug or an outage:
exit code 1 with a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
import warnings
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Literal, NoReturn

ErrorCode = Literal["UnsupportedAudio", "CorruptAudio", "EmptyAudio", "TooLarge", "InvalidArgument"]

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1


class AudioInputError(Exception):
    """The input (file or arguments) cannot be processed; retrying will not help."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message


def emit(message: dict[str, Any]) -> None:
    """Write one JSON line on stdout and flush, so the reader sees it at once."""
    sys.stdout.write(json.dumps(message, allow_nan=False) + "\n")
    sys.stdout.flush()


class Progress:
    """Emits progress lines whose percentages never go down and never repeat needlessly."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.percent = 0.0

    def report(self, percent: float, message: str) -> None:
        percent = round(min(100.0, max(self.percent, percent)), 1)
        if percent == self.percent and percent != 0.0:
            return
        self.percent = percent
        if self.enabled:
            emit({"type": "progress", "percent": percent, "message": message})


class Spans:
    """Times phases as span lines: `with spans.phase("separator.decode") as attrs: ...`.

    Attributes set on the yielded dict while the phase runs are sent with it; a phase that raises
    is still sent, with `error` naming the exception type."""

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = bool(os.environ.get("TRACEPARENT")) if enabled is None else enabled

    @contextmanager
    def phase(self, name: str, **attributes: str | int | float | bool) -> Iterator[dict[str, Any]]:
        attrs: dict[str, Any] = dict(attributes)
        start = time.time()
        try:
            yield attrs
        except BaseException as err:
            attrs["error"] = type(err).__name__
            raise
        finally:
            if self.enabled:
                emit({"type": "span", "name": name, "start": start, "end": time.time(), "attributes": attrs})


def run_cli(main: Callable[[list[str] | None], dict[str, Any]], argv: list[str] | None = None) -> int:
    """Run a worker's main: print its result line, map failures to exit codes."""
    # Library warnings (short-signal FFT sizes, clipping notes) would mix free text into stderr,
    # which carries the JSON error line.
    warnings.filterwarnings("ignore")
    try:
        result = main(argv)
    except AudioInputError as err:
        sys.stderr.write(json.dumps({"type": "error", "code": err.code, "message": err.message}) + "\n")
        sys.stderr.flush()
        return EXIT_BAD_INPUT
    except Exception:  # noqa: BLE001 - the contract is: traceback on stderr, exit 1
        traceback.print_exc(file=sys.stderr)
        sys.stderr.flush()
        return EXIT_FAILURE
    emit(result)
    return 0


def exit_now(code: int) -> NoReturn:
    """End the worker process with `code`, skipping the interpreter's teardown.

    Everything a worker produces is written and closed by then (stems, the result line, flushed
    here); unloading torch's and numba's modules only costs time, 0.4-0.6 s measured after a
    separation, which every job would otherwise wait for. For `__main__` only, never in-process."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports bad arguments as an InvalidArgument error line, not usage text."""

    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        raise AudioInputError("InvalidArgument", message)
