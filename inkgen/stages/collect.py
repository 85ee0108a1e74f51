"""Stage collect (notebook 01_collect): fill ``paths.raw`` from the source ``collect.source`` names.

``procedural`` renders the embedded corpus (``inkgen.data.procedural``), ``folder`` reads a user's own
images, ``met`` / ``cleveland`` / ``aic`` query the museums' open-access APIs through one polite,
cached HTTP client per run (responses cached under ``paths.http_cache``, so a re-run fetches only what
is missing). Whatever the source, kept items, the quarantine and the items deliberately not collected
(not public domain, beyond ``collect.n_images``) are written by :class:`~inkgen.data.raw_store.RawStore`,
and :func:`run` returns a :class:`CollectSummary` of what happened.

Relative paths in ``params`` are relative to the project root, the folder that holds ``params.yaml``.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from inkgen.config import Params, project_root
from inkgen.data.collect import reason_kind
from inkgen.data.raw_store import RawStore
from inkgen.data.sources import MUSEUMS, FolderSource, HttpClient, SourceStats, make_client
from inkgen.display import tabular
from inkgen.layout import write_metrics


@tabular  # a table in the notebook, not a one-line repr
@dataclass
class CollectSummary:
    source: str
    kept: int
    quarantined: int
    reasons: Counter = field(default_factory=Counter)  # quarantine reason kind -> count
    seconds: float = 0.0
    skipped_not_public_domain: int = 0  # museum items left out (listed in not_collected.jsonl)
    http_requests: int = 0  # network attempts, retries included
    http_cache_hits: int = 0
    http_retries: int = 0
    duplicates_in_listing: int = 0  # museum listing entries repeating an id already listed (handled once)
    not_collected_over_limit: int = 0  # folder files beyond collect.n_images (listed in not_collected.jsonl)
    not_collected: Counter = field(default_factory=Counter)  # every not_collected.jsonl row, by reason kind
    url_warnings: int = 0  # kept museum records with an object or image URL off the museum's https host
    period_sources: Counter = field(default_factory=Counter)  # kept records by where their period came from

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for name in ("reasons", "not_collected", "period_sources"):
            out[name] = dict(sorted(getattr(self, name).items()))
        return out

    def __str__(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)


def _resolve(base: Path, path: str) -> Path:
    return Path(path) if Path(path).is_absolute() else base / path


def run(params: Params, root: str | Path | None = None, *, http: HttpClient | None = None) -> CollectSummary:
    """Run the collect stage; ``root`` is the project root (default: where ``params.yaml`` is).

    ``http`` replaces the museum sources' client (tests pass one with an injected clock and sleep).
    The store is written only when the source finishes; a failing listing raises and writes nothing.
    """
    started = time.monotonic()
    base = Path(root) if root is not None else project_root()
    collect = params.collect
    store = RawStore(_resolve(base, params.paths.raw))
    source_stats = SourceStats()
    client = None
    if collect.source == "procedural":
        # Imported here: the renderer is heavier than the other sources and only this branch needs it.
        from inkgen.data.procedural import ProceduralSource

        ProceduralSource(collect).collect(store)
    elif collect.source == "folder":
        source_stats = FolderSource(collect, base).collect(store)
    else:
        source_cls = MUSEUMS[collect.source]
        client = http or make_client(source_cls, collect, str(_resolve(base, params.paths.http_cache)))
        try:
            source_stats = source_cls(collect, client).collect(store)
        finally:
            if http is None:
                client.close()
    kept, held = store.close()
    # DVC tracks the response cache as a persistent output, so it must exist even for offline sources.
    _resolve(base, params.paths.http_cache).mkdir(parents=True, exist_ok=True)
    reasons = Counter(reason_kind(entry.reason) for entry in store.quarantined.values())
    stats = client.stats if client is not None else None
    summary = CollectSummary(
        source=collect.source, kept=kept, quarantined=held, reasons=reasons,
        seconds=round(time.monotonic() - started, 3),
        skipped_not_public_domain=source_stats.skipped_not_public_domain,
        http_requests=stats.requests if stats else 0, http_cache_hits=stats.cache_hits if stats else 0,
        http_retries=stats.retries if stats else 0, duplicates_in_listing=source_stats.duplicates_in_listing,
        not_collected_over_limit=source_stats.not_collected_over_limit,
        not_collected=Counter(reason_kind(entry.reason) for entry in store.skipped.values()),
        url_warnings=source_stats.url_warnings,
        period_sources=Counter(str(rec.period_source) for rec in store.records.values()),
    )
    write_metrics(_resolve(base, params.paths.metrics) / "collect.json", summary.to_dict())
    return summary
