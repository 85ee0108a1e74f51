"""The Metropolitan Museum of Art Collection API (https://metmuseum.github.io/).

Documented endpoints used here:

* ``GET {met_url}/search?q=<query>&hasImages=true&departmentId=<met_department_id>`` ->
  ``{"total": n, "objectIDs": [...]}`` (``collect.museum.met_department_id``, 6 = Asian Art, by default;
  ``objectIDs`` is ``null`` when nothing matches);
* ``GET {met_url}/objects/{objectID}`` -> one object: ``isPublicDomain``, ``primaryImage`` (original),
  ``primaryImageSmall`` (web-large), ``title``, ``objectName``, ``culture``, ``period``, ``dynasty``,
  ``objectDate``, ``objectBeginDate``, ``objectEndDate``, ``medium``, ``classification``, ``objectURL``.

Images of public-domain objects are Open Access under CC0 ("Open Access" policy,
https://www.metmuseum.org/about-the-met/policies-and-documents/open-access); others carry no image
URL and are skipped. An object is kept only when its ``culture`` names China, its ``department`` is Asian
Art and its ``classification`` is Paintings (``museum_rules.yaml``); its period comes from its
``dynasty``/``period`` fields before its years (:mod:`.dating`). The Met asks for at most 80 requests per
second. The web-large image is downloaded: originals can exceed the decompression-bomb budget, and the
study works at 64-384 px.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from inkgen.data.sources.base import Listed, MuseumItem, MuseumSource, numeric_id, pick
from inkgen.data.sources.dating import date_item
from inkgen.data.sources.rules import screen

MET_LICENSE = "CC0-1.0 (The Met Open Access, public domain)"
METADATA_FIELDS = (
    "objectID", "accessionNumber", "isPublicDomain", "primaryImage", "primaryImageSmall", "department",
    "title", "objectName", "culture", "period", "dynasty", "reign", "artistDisplayName", "objectDate",
    "objectBeginDate", "objectEndDate", "medium", "classification", "objectURL", "creditLine",
)


class MetSource(MuseumSource):
    name = "met"
    documented_rate_per_s = 80.0
    not_public_domain_reason = "isPublicDomain is not true (not in The Met's Open Access, CC0)"

    def listing(self) -> Iterator[Listed]:
        url = f"{self.museum.met_url}/search"
        params = {"q": self.museum.query, "hasImages": "true", "departmentId": self.museum.met_department_id}
        page = self.fetch_listing(url, params)
        full = self.http.full_url(url, params)
        if not isinstance(page, Mapping) or "objectIDs" not in page:
            raise self.listing_error(full, "expected an object with 'objectIDs'")
        ids = page["objectIDs"] or []  # the API answers null, not [], when nothing matches
        if not isinstance(ids, list):
            raise self.listing_error(full, f"'objectIDs' is a {type(ids).__name__}, not a list")
        for raw_id in ids:
            object_id = numeric_id(raw_id)
            if object_id is None:
                raise self.listing_error(full, f"object id {raw_id!r} is not a number")
            yield Listed(item_id=f"met-{object_id}", detail_url=f"{self.museum.met_url}/objects/{object_id}")

    def describe(self, listed: Listed, obj: Mapping[str, Any]) -> MuseumItem:
        screen(obj, self.rules)
        dating = date_item(obj, self.rules)
        image_url = obj.get("primaryImageSmall") or obj.get("primaryImage") or None
        return MuseumItem(
            item_id=listed.item_id,
            public_domain=obj.get("isPublicDomain") is True,
            image_url=image_url,
            license=MET_LICENSE,
            object_url=obj.get("objectURL") or None,
            title=obj.get("title") or obj.get("objectName") or None,
            date=dating.display,
            period=dating.period,
            period_source=dating.period_source,
            metadata={**pick(obj, METADATA_FIELDS), "dating": dating.metadata()},
        )
