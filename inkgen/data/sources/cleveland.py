"""The Cleveland Museum of Art Open Access API (https://openaccess-api.clevelandart.org/).

Documented endpoint used here:

* ``GET {cleveland_url}/artworks/?q=<query>&department=<cleveland_department>&type=<cleveland_type>
  &has_image=1&cc0=1&limit=<n>&skip=<offset>`` (``collect.museum.cleveland_department`` and
  ``.cleveland_type``: "Chinese Art" and "Painting" by default) -> ``{"info": {"total": n, ...}, "data": [artwork, ...]}``, where each
  artwork carries everything needed: ``id``, ``accession_number``, ``share_license_status`` ("CC0" for
  open-access works), ``title``, ``creation_date`` (text), ``creation_date_earliest`` /
  ``creation_date_latest`` (years), ``culture`` (list), ``technique``, ``url`` (the collection page)
  and ``images.web.url`` (the web-size JPEG).

``cc0=1`` already asks for CC0 works only; the licence is checked again per artwork, because a record
is only kept when it says so itself. Likewise the department and type filters of the query are checked
again per artwork, with its culture (``museum_rules.yaml``): a page of American and European works, which
a real query returned, is refused item by item (``not_chinese``). B.C. years given positive with
earliest > latest are read by the display date (:mod:`.dating`). The museum publishes its data and images under
CC0 and states no rate limit; the params' polite rate applies. The listing is paged by offset, so a
collection that changes between two page requests can list an artwork twice; the shared flow handles it
once.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from inkgen.data.sources.base import Listed, MuseumItem, MuseumSource, numeric_id, pick
from inkgen.data.sources.dating import date_item
from inkgen.data.sources.rules import screen

CMA_LICENSE = "CC0-1.0 (Cleveland Museum of Art Open Access)"
PAGE_SIZE = 100
METADATA_FIELDS = (
    "id", "accession_number", "share_license_status", "title", "creation_date", "creation_date_earliest",
    "creation_date_latest", "culture", "technique", "department", "type", "url", "creators", "images",
)


class ClevelandSource(MuseumSource):
    name = "cleveland"
    not_public_domain_reason = "share_license_status is not 'CC0'"

    def __init__(self, *args: Any, page_size: int = PAGE_SIZE, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.page_size = page_size

    def listing(self) -> Iterator[Listed]:
        url = f"{self.museum.cleveland_url}/artworks/"
        skip, total = 0, None
        while total is None or skip < total:
            params = {"q": self.museum.query, "department": self.museum.cleveland_department,
                      "type": self.museum.cleveland_type, "has_image": 1, "cc0": 1,
                      "limit": self.page_size, "skip": skip}
            page = self.fetch_listing(url, params)
            full = self.http.full_url(url, params)
            if not isinstance(page, Mapping) or not isinstance(page.get("data"), list):
                raise self.listing_error(full, "expected an object with a 'data' list")
            info = page.get("info")
            total = info.get("total") if isinstance(info, Mapping) else None
            if not isinstance(total, int):
                raise self.listing_error(full, "expected 'info.total' to be a number")
            rows = page["data"]
            if not rows:
                return  # fewer results than 'total' promised: the listing is exhausted
            for row in rows:
                object_id = numeric_id(row.get("id")) if isinstance(row, Mapping) else None
                if object_id is None:
                    raise self.listing_error(full, f"an artwork without a numeric 'id': {str(row)[:120]}")
                yield Listed(item_id=f"cma-{object_id}", row=dict(row))
            skip += len(rows)

    def describe(self, listed: Listed, obj: Mapping[str, Any]) -> MuseumItem:
        screen(obj, self.rules)
        dating = date_item(obj, self.rules)
        images = obj.get("images")
        web = images.get("web") if isinstance(images, Mapping) else None
        image_url = web.get("url") if isinstance(web, Mapping) else None
        return MuseumItem(
            item_id=listed.item_id,
            public_domain=obj.get("share_license_status") == "CC0",
            image_url=image_url if isinstance(image_url, str) and image_url else None,
            license=CMA_LICENSE,
            object_url=obj.get("url") or None,
            title=obj.get("title") or None,
            date=dating.display,
            period=dating.period,
            period_source=dating.period_source,
            metadata={**pick(obj, METADATA_FIELDS), "dating": dating.metadata()},
        )
