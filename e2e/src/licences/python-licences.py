"""Prints, as JSON, the SPDX licence of every distribution the audio image's Python runtime needs:
the closure of python-workers/requirements.txt (not the test requirements) in the venv running this.

Metadata is uneven across wheels: License-Expression where a wheel has it, else the trove
classifier, else the short License field, else the first lines of the bundled licence file.
"""
import importlib.metadata as md
import json
import re
import sys

from packaging.requirements import Requirement

CLASSIFIERS = {
    "MIT License": "MIT",
    "BSD License": "BSD-3-Clause",
    "Apache Software License": "Apache-2.0",
    "ISC License (ISCL)": "ISC",
    "Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "Python Software Foundation License": "PSF-2.0",
}
SHORT = {
    "MIT": "MIT",
    "MIT License": "MIT",
    "BSD": "BSD-3-Clause",
    "BSD 3-Clause License": "BSD-3-Clause",
    "Apache 2.0": "Apache-2.0",
    "Apache-2.0": "Apache-2.0",
}
TEXTS = [
    (re.compile(r"Apache License\s+Version 2\.0"), "Apache-2.0"),
    (re.compile(r"Permission is hereby granted, free of charge"), "MIT"),
    (re.compile(r"Redistribution and use in source and binary forms"), "BSD-3-Clause"),
]


def spdx(dist):
    meta = dist.metadata
    if meta.get("License-Expression"):
        return meta["License-Expression"]
    for classifier in meta.get_all("Classifier") or []:
        if classifier.startswith("License ::"):
            name = classifier.split("::")[-1].strip()
            if name in CLASSIFIERS:
                return CLASSIFIERS[name]
    short = (meta.get("License") or "").strip()
    if short in SHORT:
        return SHORT[short]
    for file in dist.files or []:
        if "licen" in file.name.lower():
            text = file.locate().read_text(errors="replace")[:2000]
            for pattern, licence in TEXTS:
                if pattern.search(text):
                    return licence
    return short or None


def closure(requirements_file):
    todo = []
    with open(requirements_file) as f:
        for line in f:
            line = line.split("#")[0].strip()
            if line and not line.startswith("-"):
                todo.append(Requirement(line).name)
    seen = {}
    while todo:
        name = todo.pop()
        key = name.lower().replace("_", "-")
        if key in seen:
            continue
        dist = md.distribution(name)
        seen[key] = dist
        for req in dist.requires or []:
            r = Requirement(req)
            if r.marker is None or r.marker.evaluate({"extra": ""}):
                todo.append(r.name)
    return seen.values()


print(
    json.dumps(
        [
            {"name": d.metadata["Name"], "version": d.version, "licence": spdx(d)}
            for d in sorted(closure(sys.argv[1]), key=lambda d: d.metadata["Name"].lower())
        ]
    )
)
