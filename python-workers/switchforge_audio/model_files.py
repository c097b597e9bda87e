"""Writing Demucs models as the files `separator --repo DIR` loads.

The format is Demucs' own package (class, constructor arguments, weights) as `torch.save`
writes it, named `<name>-<first 8 hex digits of its SHA-256>.th` so that Demucs verifies the
file on load. Operators use it to put models on a volume for clusters without internet access;
the benchmarks use it to time architectures whose pretrained weights cannot be downloaded here.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any


def save_model_file(model: Any, folder: Path, name: str) -> Path:
    """Serialise a Demucs model built with its `capture_init` constructor into `folder`."""
    import torch

    if "-" in name:
        raise ValueError(f"model name {name!r} may not contain '-': Demucs reads what follows it as a checksum")
    args, kwargs = model._init_args_kwargs
    package = {"klass": model.__class__, "args": args, "kwargs": kwargs, "state": model.state_dict()}
    buffer = io.BytesIO()
    torch.save(package, buffer)
    data = buffer.getvalue()
    path = Path(folder) / f"{name}-{hashlib.sha256(data).hexdigest()[:8]}.th"
    path.write_bytes(data)
    return path
