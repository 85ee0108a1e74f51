"""The Art Institute of Chicago public API (https://api.artic.edu/docs/).

Documented endpoints used here:

* ``GET {aic_url}/artworks/search?q=<query>&query[term][is_public_domain]=true
  &fields=id,title,image_id,date_start,date_end,date_display,place_of_origin,is_public_domain
  &limit=<n>&page=<p>`` -> ``{"pagination": {"total", "limit", "offset", "total_pages", "current_page"},
  "data": [artwork, ...], "config": {"iiif_url", "website_url"}}``;
* images through IIIF Image API 2: ``{aic_image_url}/{image_id}/full/843,/0/default.jpg`` (843 px wide
  is the size the documentation recommends and the one its CDN caches).

Anonymous clients get 60 requests per minute, and the AIC asks every client to identify itself in an
``AIC-User-Agent`` header. Public-domain images are released under CC0; the term query already asks
for public-domain works, and ``is_public_domain`` is checked again per artwork.
"""

from __future__ import annotations

import re
from typing import Any, Iterator, Mapping

from inkgen.data.sources.base import Listed, MuseumItem, MuseumSource, numeric_id, period_of_years, pick

AIC_LICENSE = "CC0-1.0 (Art Institute of Chicago, public domain)"
PAGE_SIZE = 100  # the API's largest page
FIELDS = ("id", "title", "image_id", "date_start", "date_end", "date_display", "place_of_origin",
          "is_public_domain")
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
            if not page["data"]:
                return
            for row in page["data"]:
                object_id = numeric_id(row.get("id")) if isinstance(row, Mapping) else None
                if object_id is None:
                    raise self.listing_error(full, f"an artwork without a numeric 'id': {str(row)[:120]}")
                yield Listed(item_id=f"aic-{object_id}", row=dict(row))
            page_no += 1

    def describe(self, listed: Listed, obj: Mapping[str, Any]) -> MuseumItem:
        image_id = obj.get("image_id")
        image_url = None
        if isinstance(image_id, str) and _IMAGE_ID.match(image_id):
            image_url = f"{self.museum.aic_image_url}/{image_id}/full/843,/0/default.jpg"
        object_url = f"{self.website_url}/artworks/{obj['id']}" if self.website_url else None
        return MuseumItem(
            item_id=listed.item_id,
            public_domain=obj.get("is_public_domain") is True,
            image_url=image_url,
            license=AIC_LICENSE,
            object_url=object_url,
            title=obj.get("title") or None,
            date=obj.get("date_display") or None,
            period=period_of_years(obj.get("date_start"), obj.get("date_end")),
            metadata=pick(obj, FIELDS),
        )
