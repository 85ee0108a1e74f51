"""The Art Institute of Chicago public API (https://api.artic.edu/docs/).

Documented endpoints used here:

* ``GET {aic_url}/artworks/search?q=<query>&query[term][is_public_domain]=true
  &fields=id,title,image_id,date_start,date_end,date_display,place_of_origin,is_public_domain
  &limit=<n>&page=<p>`` -> ``{"pagination": {"total", "limit", "offset", "total_pages", "current_page"},
  "data": [artwork, ...], "config": {"iiif_url", "website_url"}}``;
* images through IIIF Image API 2: ``{config.iiif_url}/{image_id}/full/843,/0/default.jpg``, with the
  IIIF base the response itself gives (the documentation shows that host changing over time; the
  params' ``aic_image_url`` is used only when a response gives none, and that is recorded as a warning).
  843 px wide is the size the documentation recommends and the one its CDN caches.

An artwork is kept only when its ``place_of_origin`` names China and its ``artwork_type_title`` or
``classification_title`` says painting (``museum_rules.yaml``); its period comes from ``style_title`` or
``date_display`` (e.g. "Qing dynasty (1644-1911)") before its years (:mod:`.dating`). The object URL is
``https://<website host>/artworks/<id>`` on the host of ``config.website_url`` (which the API gives as
``http://www.artic.edu``; the page is served over https).

Anonymous clients get 60 requests per minute, and the AIC asks every client to identify itself in an
``AIC-User-Agent`` header. Public-domain images are released under CC0; the term query already asks
for public-domain works, and ``is_public_domain`` is checked again per artwork.
"""

from __future__ import annotations

import re
from typing import Any, Iterator, Mapping
from urllib.parse import urlsplit

from inkgen.data.sources.base import Listed, MuseumItem, MuseumSource, numeric_id, pick
from inkgen.data.sources.dating import date_item
from inkgen.data.sources.rules import check_url, screen

AIC_LICENSE = "CC0-1.0 (Art Institute of Chicago, public domain)"
PAGE_SIZE = 100  # the API's largest page
FIELDS = ("id", "title", "image_id", "date_start", "date_end", "date_display", "place_of_origin",
          "is_public_domain", "artwork_type_title", "classification_title", "department_title", "style_title")
_IMAGE_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")  # IIIF identifiers are UUIDs; anything else is not spliced


class AicSource(MuseumSource):
    name = "aic"
    documented_rate_per_s = 1.0
    user_agent_headers = ("AIC-User-Agent",)
    not_public_domain_reason = "is_public_domain is not true"

    def __init__(self, *args: Any, page_size: int = PAGE_SIZE, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.page_size = page_size
        self.website_url: str | None = None
        self.iiif_url: str | None = None

    def listing(self) -> Iterator[Listed]:
        url = f"{self.museum.aic_url}/artworks/search"
        page_no, total_pages = 1, None
        while total_pages is None or page_no <= total_pages:
            params = {"q": self.museum.query, "query[term][is_public_domain]": "true",
                      "fields": ",".join(FIELDS), "limit": self.page_size, "page": page_no}
            page = self.fetch_listing(url, params)
            full = self.http.full_url(url, params)
            if not isinstance(page, Mapping) or not isinstance(page.get("data"), list):
                raise self.listing_error(full, "expected an object with a 'data' list")
            pagination = page.get("pagination")
            total_pages = pagination.get("total_pages") if isinstance(pagination, Mapping) else None
            if not isinstance(total_pages, int):
                raise self.listing_error(full, "expected 'pagination.total_pages' to be a number")
            config = page.get("config")
            if isinstance(config, Mapping) and isinstance(config.get("website_url"), str):
                self.website_url = config["website_url"].rstrip("/")
            if isinstance(config, Mapping) and isinstance(config.get("iiif_url"), str):
                self.iiif_url = config["iiif_url"].rstrip("/")
            if not page["data"]:
                return
            for row in page["data"]:
                object_id = numeric_id(row.get("id")) if isinstance(row, Mapping) else None
                if object_id is None:
                    raise self.listing_error(full, f"an artwork without a numeric 'id': {str(row)[:120]}")
                yield Listed(item_id=f"aic-{object_id}", row=dict(row))
            page_no += 1

    def describe(self, listed: Listed, obj: Mapping[str, Any]) -> MuseumItem:
        screen(obj, self.rules)
        dating = date_item(obj, self.rules)
        warnings = []
        image_id, image_url = obj.get("image_id"), None
        if isinstance(image_id, str) and _IMAGE_ID.match(image_id):
            base = self.iiif_url
            if base is None:
                base = self.museum.aic_image_url
                warnings.append(f"the response gave no config.iiif_url; image URL built on the params' "
                                f"collect.museum.aic_image_url {base!r}")
            image_url = f"{base}/{image_id}/full/843,/0/default.jpg"
        object_url = None
        if self.website_url:
            host = urlsplit(self.website_url).hostname or ""
            if host in self.rules["object_hosts"]:
                object_url = f"https://{host}/artworks/{obj['id']}"
            else:
                warnings.append(check_url(self.website_url, self.rules["object_hosts"],
                                          "config.website_url")[1] + " (no object URL built on it)")
        return MuseumItem(
            item_id=listed.item_id,
            public_domain=obj.get("is_public_domain") is True,
            image_url=image_url,
            license=AIC_LICENSE,
            object_url=object_url,
            title=obj.get("title") or None,
            date=dating.display,
            period=dating.period,
            period_source=dating.period_source,
            metadata={**pick(obj, FIELDS), "dating": dating.metadata()},
            url_warnings=warnings,
        )
