"""Consultant keys and keyrings the tests make for themselves (the project ships no consultant)."""

from __future__ import annotations

from pathlib import Path

import yaml

from governance.signing import load_keyring, load_private, new_consultant_key


def consultant(folder: Path, name: str = "A. Consultant", others: tuple[str, ...] = ()):
    """(private key, keyring, keyring path) for ``name`` (plus ``others`` listed with their own keys)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [new_consultant_key(n, "cultural consultant (test)", folder / f"key-{i}.pem")
            for i, n in enumerate((name,) + others)]
    path = folder / "consultants.yaml"
    path.write_text(yaml.safe_dump({"consultants": rows}, allow_unicode=True), encoding="utf-8")
    return load_private(folder / "key-0.pem"), load_keyring(path), path
