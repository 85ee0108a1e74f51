"""What every collect source shares: the tally it returns, period tagging, and the museum item flow.

A source fills a :class:`~inkgen.data.raw_store.RawStore`: kept items through ``add_image``, refused
ones through ``quarantine`` with a reason written ``"<kind>: <detail>"`` (the kind is what the collect
summary counts). :class:`MuseumSource` is the flow the three museum APIs have in common:

    listing (search, paged)  ->  object details  ->  what was asked for?  ->  licence check
                             ->  image download  ->  intake

"What was asked for" is the item-level check of :mod:`.rules` (a Chinese painting, by the item's own
fields, with the fields the API documents) and the dating of :mod:`.dating`; an item that fails it is
listed in ``not_collected.jsonl`` with its reason (``not_chinese``, ``not_a_painting``, ``bad_field``,
``unparseable_date``) and counted by kind. Object and image URLs that are not https on the museum's
public host are recorded as warnings on the record (``metadata["url_warnings"]``); such an object URL
is not kept as the record's ``object_url``.

A failure of the listing itself stops the stage with :class:`SourceError` (without a listing there is
nothing to collect, and a half listing would silently change the corpus); a failure of one item
(details, image, decoding) quarantines that item and the stage goes on. Items that are not public
domain / CC0 are not stored: they are counted and listed by id with the reason in the store's
``not_collected.jsonl``. An id that the listing repeats (paged listings shift when the collection
changes between page requests) is handled once; the repeats are counted (``duplicates_in_listing``).
An image that intake refuses is also dropped from the HTTP cache, so a re-run fetches it again.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

from inkgen.config import CollectParams
from inkgen.data.intake import ImageRejected, intake_image
from inkgen.data.raw_store import RawStore
from inkgen.data.sources.dating import period_of_years  # noqa: F401  (re-exported: older imports)
from inkgen.data.sources.http import FetchError, HttpClient
from inkgen.data.sources.rules import ItemRefused, check_url, museum_rules

log = logging.getLogger(__name__)

class SourceError(RuntimeError):
    """A failure that stops the whole source (e.g. the search listing cannot be fetched or read)."""


@dataclass
class SourceStats:
    """What a source did, beyond what the store holds."""

    seen: int = 0
    skipped_not_public_domain: int = 0
    duplicates_in_listing: int = 0  # listing entries whose id had already been listed (skipped)
    not_collected_over_limit: int = 0  # items seen beyond collect.n_images (the folder source)
    refused: Counter = field(default_factory=Counter)  # item-level refusals by kind (not_chinese, ...)
    url_warnings: int = 0  # kept records whose object or image URL is not https on the museum's host


def pick(obj: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """The named fields of an API object, verbatim (missing ones left out)."""
    return {name: obj[name] for name in fields if name in obj}


def numeric_id(value: Any) -> int | None:
    """A museum object id as a non-negative int, or None if it is not one (it becomes a file name)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


def image_suffix(url: str | None) -> str:
    """File suffix for quarantined image bytes, from the URL (``.bin`` when it says nothing)."""
    tail = (url or "").split("?", 1)[0].rsplit("/", 1)[-1].lower()
    for suffix in (".jpg", ".jpeg", ".png", ".gif", ".tif", ".tiff", ".webp"):
        if tail.endswith(suffix):
            return suffix
    return ".bin"


@dataclass
class MuseumItem:
    """One object as a museum describes it, already mapped onto the record's fields."""

    item_id: str
    public_domain: bool
    image_url: str | None
    license: str
    object_url: str | None = None
    title: str | None = None
    date: str | None = None
    period: str | None = None
    period_source: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    url_warnings: list[str] = field(default_factory=list)

    def validate_urls(self, rules: Mapping[str, Any]) -> None:
        """Check both URLs against the museum's public hosts (:func:`.rules.check_url`).

        An object URL that fails is dropped from the record (it would send a reader elsewhere than the
        museum) and kept in the warning; an image URL that fails is still the one the bytes came from,
        so it stays, with its warning.
        """
        _, warning = check_url(self.object_url, rules["object_hosts"], "object URL")
        if warning:
            self.url_warnings.append(warning + " (not kept as object_url)")
            self.object_url = None
        _, warning = check_url(self.image_url, rules["image_hosts"], "image URL")
        if warning:
            self.url_warnings.append(warning)


@dataclass
class Listed:
    """One entry of a search listing: its item id, the URL of its details (if separate), its row."""

    item_id: str
    detail_url: str | None = None
    row: dict[str, Any] | None = None


class Source(ABC):
    """Anything the collect stage can read from."""

    name: str

    @abstractmethod
    def collect(self, store: RawStore) -> SourceStats:
        """Fill ``store`` (kept and quarantined items); return the counts the store cannot know."""


class MuseumSource(Source):
    """The shared museum flow; subclasses say how to list, fetch details and read an object."""

    #: The museum's documented request-rate ceiling (requests/s), or None; see :func:`make_client`.
    documented_rate_per_s: float | None = None
    #: Further headers that must carry the user agent (the AIC asks for ``AIC-User-Agent``).
    user_agent_headers: tuple[str, ...] = ()
    #: Why an item that is not public domain is left out (``not_collected.jsonl``).
    not_public_domain_reason: str = "the museum does not release this object's image as public domain / CC0"

    def __init__(self, collect: CollectParams, http: HttpClient):
        self.rules = museum_rules(self.name)
        self.collect_params = collect
        self.museum = collect.museum
        self.http = http
        self.limit = min(collect.museum.max_items, collect.n_images)

    # -- what each museum defines
    @abstractmethod
    def listing(self) -> Iterator[Listed]:
        """The search results in the museum's order, fetched lazily (page by page)."""

    @abstractmethod
    def describe(self, listed: Listed, obj: Mapping[str, Any]) -> MuseumItem:
        """Map an API object onto a :class:`MuseumItem` (licence, image URL, title, date, ...).

        Raises :class:`~.rules.ItemRefused` for an item that is not what was asked for.
        """

    # -- shared flow
    def fetch_listing(self, url: str, params: Mapping[str, Any] | None = None) -> Any:
        """A page of the listing as JSON, or :class:`SourceError` naming the URL and the reason."""
        try:
            return self.http.get_json(url, params).data
        except FetchError as exc:
            raise SourceError(f"{self.name}: the search listing failed: {exc}") from exc

    def listing_error(self, url: str, problem: str) -> SourceError:
        return SourceError(f"{self.name}: the search listing at {url} is not as documented: {problem}")

    def collect(self, store: RawStore) -> SourceStats:
        stats = SourceStats()
        kept = 0
        listed_ids: set[str] = set()
        for listed in self.listing():
            if listed.item_id in listed_ids:
                stats.duplicates_in_listing += 1
                log.info("%s: %s listed again; skipped the repeat", self.name, listed.item_id)
                continue
            listed_ids.add(listed.item_id)
            stats.seen += 1
            try:
                item = self._fetch_item(store, listed)
            except ItemRefused as refused:
                stats.refused[refused.kind] += 1
                log.info("%s: %s not collected: %s", self.name, listed.item_id, refused.reason)
                store.skip(listed.item_id, self.name, refused.reason, object_url=refused.context.pop(
                    "object_url", None), **refused.context)
                continue
            if item is None:
                continue
            if not item.public_domain:
                stats.skipped_not_public_domain += 1
                store.skip(item.item_id, self.name, f"not_public_domain: {self.not_public_domain_reason}",
                           object_url=item.object_url)
                continue
            if self._store_item(store, item):
                kept += 1
                stats.url_warnings += bool(item.url_warnings)
                if kept >= self.limit:
                    break  # before asking the listing for more, which may cost another page request
        log.info("%s: kept %d, quarantined %d, skipped %d not public domain, refused %s, %d repeated in the "
                 "listing", self.name, kept, len(store.quarantined), stats.skipped_not_public_domain,
                 dict(stats.refused), stats.duplicates_in_listing)
        return stats

    def _quarantine(self, store: RawStore, item_id: str, reason: str, data: bytes | None = None,
                    suffix: str = ".bin", **context: Any) -> None:
        log.warning("%s: quarantined %s: %s", self.name, item_id, reason)
        store.quarantine(item_id, self.name, reason, data=data, suffix=suffix, **context)

    def _fetch_item(self, store: RawStore, listed: Listed) -> MuseumItem | None:
        obj = listed.row
        if listed.detail_url is not None:
            try:
                obj = self.http.get_json(listed.detail_url).data
            except FetchError as exc:
                suffix = ".json" if exc.kind == "malformed_json" else ".bin"
                self._quarantine(store, listed.item_id, f"detail_{exc.kind}: {exc}", exc.body, suffix,
                                 url=exc.url)
                return None
        if not isinstance(obj, Mapping):
            if listed.detail_url is not None:
                self.http.evict(listed.detail_url)  # valid JSON of the wrong shape: ask again next run
            self._quarantine(store, listed.item_id,
                             f"detail_malformed: expected a JSON object, got {type(obj).__name__}",
                             url=listed.detail_url)
            return None
        item = self.describe(listed, obj)
        item.validate_urls(self.rules)
        return item

    def _store_item(self, store: RawStore, item: MuseumItem) -> bool:
        context = {"object_url": item.object_url, "image_url": item.image_url}
        if not item.image_url:
            self._quarantine(store, item.item_id, "no_image: the API gives no image URL", **context)
            return False
        try:
            fetched = self.http.get_image(item.image_url)
        except FetchError as exc:
            self._quarantine(store, item.item_id, f"image_{exc.kind}: {exc}", exc.body, **context)
            return False
        try:
            intake = intake_image(fetched.body, item.item_id, self.collect_params.max_image_pixels)
        except ImageRejected as exc:
            # The bytes may be a cached error page or a cut-off download: never serve them again.
            self.http.evict(item.image_url)
            self._quarantine(store, item.item_id, exc.quarantine_reason, fetched.body,
                             image_suffix(item.image_url), content_type=fetched.content_type, **context)
            return False
        store.add_image(item.item_id, intake.image, source=self.name, license=item.license,
                        url=item.image_url, object_url=item.object_url, title=item.title, date=item.date,
                        period=item.period, period_source=item.period_source,
                        retrieved_at=fetched.retrieved_at,
                        metadata={**item.metadata, **intake.metadata,
                                  **({"url_warnings": item.url_warnings} if item.url_warnings else {})})
        return True


def make_client(source_cls: type[MuseumSource], collect: CollectParams, cache_dir: str | None,
                **overrides: Any) -> HttpClient:
    """The HTTP client a museum source runs with: params, capped at the museum's documented rate."""
    museum = collect.museum
    rate = museum.rate_per_s
    if source_cls.documented_rate_per_s is not None:
        rate = min(rate, source_cls.documented_rate_per_s)
    headers = {name: museum.user_agent for name in source_cls.user_agent_headers}
    options: dict[str, Any] = dict(user_agent=museum.user_agent, timeout_s=museum.timeout_s,
                                   retries=museum.retries, backoff_s=museum.backoff_s, rate_per_s=rate,
                                   cache_dir=cache_dir, headers=headers)
    options.update(overrides)
    return HttpClient(**options)
