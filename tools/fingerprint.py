"""Fingerprint of a study run, to prove that a refactor left its results byte-identical.

Usage: ``python tools/fingerprint.py PROJECT_DIR [--out FILE.json]``. Writes (or prints) sorted JSON with

- ``checkpoints``: the SHA-256 of every file under ``models/`` (path relative to the project);
- ``metrics``: every leaf value of every ``reports/metrics/**/*.json``, keyed ``file:dotted.key``, with
  wall-clock fields dropped by key name (``TIMING``) and the project's absolute path written as ``<root>``
  (two clones live in two folders).

Compare two fingerprints with ``diff <(jq -S . a.json) <(jq -S . b.json)`` or ``python tools/fingerprint.py
--compare A.json B.json`` (exit status 1 when they differ, the differing entries printed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

# keys whose values are measured durations or clock readings (they differ between two identical runs)
TIMING = re.compile(r"(second|seconds|_s$|_ms$|^ms$|hours?$|time|wall|elapsed|duration|inference|timestamp"
                    r"|started|finished|_at$|^date$)", re.IGNORECASE)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _leaves(obj: Any, prefix: str, out: dict[str, Any], root: str) -> None:
    if isinstance(obj, dict):
        for key, value in obj.items():
            if TIMING.search(str(key)):
                continue
            _leaves(value, f"{prefix}.{key}" if prefix else str(key), out, root)
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            _leaves(value, f"{prefix}[{i}]", out, root)
    else:
        out[prefix] = obj.replace(root, "<root>") if isinstance(obj, str) else obj


def fingerprint(project: Path) -> dict[str, dict[str, Any]]:
    project = project.resolve()
    models = project / "models"
    checkpoints = {str(p.relative_to(project)): _sha256(p)
                   for p in sorted(models.rglob("*")) if p.is_file()} if models.is_dir() else {}
    metrics: dict[str, Any] = {}
    for path in sorted((project / "reports" / "metrics").rglob("*.json")):
        values: dict[str, Any] = {}
        _leaves(json.loads(path.read_text()), "", values, str(project))
        rel = str(path.relative_to(project))
        metrics.update({f"{rel}:{key}": value for key, value in values.items()})
    return {"checkpoints": checkpoints, "metrics": dict(sorted(metrics.items()))}


def compare(a: dict, b: dict) -> list[str]:
    diffs = []
    for section in ("checkpoints", "metrics"):
        left, right = a.get(section, {}), b.get(section, {})
        for key in sorted(set(left) | set(right)):
            if left.get(key, "<missing>") != right.get(key, "<missing>"):
                diffs.append(f"{section} {key}: {left.get(key, '<missing>')!r} != {right.get(key, '<missing>')!r}")
    return diffs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("A", "B"))
    args = parser.parse_args(argv)
    if args.compare:
        a, b = (json.loads(p.read_text()) for p in args.compare)
        diffs = compare(a, b)
        print("\n".join(diffs) if diffs else
              f"identical: {len(a['checkpoints'])} checkpoint files, {len(a['metrics'])} metric values")
        return 1 if diffs else 0
    if args.project is None:
        parser.error("PROJECT or --compare A B")
    text = json.dumps(fingerprint(args.project), indent=1, sort_keys=True)
    if args.out:
        args.out.write_text(text + "\n")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
