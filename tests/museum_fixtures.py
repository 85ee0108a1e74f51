"""Museum API response bodies shaped exactly like the real ones, Chinese paintings and others mixed.

Each builder says where its shape was checked. Field names, nesting, types, nulls and empty strings
follow the real responses; values are those of real records where one was found (ids, titles, dates),
with image URLs pointed at the test server (``base``). Nothing here is fetched from the internet.
"""

from __future__ import annotations

from typing import Any

# --------------------------------------------------------------------------------------------- the Met
# Shape checked against: metmuseum.github.io ("Object" endpoint, field list); full objects 65397, 65398,
# 65555 (Xiao Yuncong, "Landscapes") quoted in public code using the API (a JS client's dummy data),
# object 51868 (album leaf, period "Qing dynasty (1644–1911)", objectDate "20th century", 1900-1911),
# a Met CSV export of cats (49470 Wang Li hanging scroll, 752008 Japanese Edo hanging scroll), the
# Openverse Met tests (object 45733: culture "China", classification "Ceramics", title "Cover"), and the
# met_museum Ruby gem README (object 1000: "Chinese, for American market", The American Wing, Bread
# plate, constituents null). B.C. years are negative (Egyptian objects: "ca. 1479–1458 B.C." ->
# objectBeginDate -1473). Empty strings, not nulls, for absent text; constituents and tags may be null.


def met_object(object_id: int, base: str, **fields: Any) -> dict[str, Any]:
    obj = {
        "objectID": object_id, "isHighlight": False, "accessionNumber": f"1984.492.{object_id}",
        "accessionYear": "1984", "isPublicDomain": True,
        "primaryImage": f"{base}/met-img/original/{object_id}.jpg",
        "primaryImageSmall": f"{base}/met-img/web-large/{object_id}.jpg", "additionalImages": [],
        "constituents": None, "department": "Asian Art", "objectName": "Hanging scroll", "title": "",
        "culture": "China", "period": "", "dynasty": "", "reign": "", "portfolio": "", "artistRole": "",
        "artistPrefix": "", "artistDisplayName": "", "artistDisplayBio": "", "artistSuffix": "",
        "artistAlphaSort": "", "artistNationality": "", "artistBeginDate": "", "artistEndDate": "",
        "artistGender": "", "artistWikidata_URL": "", "artistULAN_URL": "", "objectDate": "",
        "objectBeginDate": 0, "objectEndDate": 0, "medium": "Hanging scroll; ink on paper",
        "dimensions": "", "measurements": None, "creditLine": "", "geographyType": "", "city": "",
        "state": "", "county": "", "country": "", "region": "", "subregion": "", "locale": "", "locus": "",
        "excavation": "", "river": "", "classification": "Paintings", "rightsAndReproduction": "",
        "linkResource": "", "metadataDate": "2025-03-06T04:54:30Z",
        "repository": "Metropolitan Museum of Art, New York, NY",
        "objectURL": f"https://www.metmuseum.org/art/collection/search/{object_id}", "tags": None,
        "objectWikidata_URL": "", "isTimelineWork": False, "GalleryNumber": "",
    }
    obj.update(fields)
    return obj


def met_objects(base: str) -> dict[int, dict[str, Any]]:
    """Twelve objects as a search for "chinese painting" in Asian Art returns them, and what each tests."""
    return {
        # kept: the museum's period decides (qing), years 1668
        65555: met_object(65555, base, objectName="Album", title="Landscapes",
                          period="Qing dynasty (1644–1911)", objectDate="dated 1668", objectBeginDate=1668,
                          objectEndDate=1668, artistDisplayName="Xiao Yuncong",
                          medium="Album of eight paintings; ink and color on paper"),
        # kept: period qing although the years (1900-1911) are given as "20th century"
        51868: met_object(51868, base, objectName="Album leaf", title="Painting",
                          period="Qing dynasty (1644–1911)", objectDate="20th century", objectBeginDate=1900,
                          objectEndDate=1911),
        # refused not_chinese: a Japanese Edo hanging scroll, classification Paintings, in Asian Art
        752008: met_object(752008, base, title="Dreaming Cat", culture="Japan",
                           period="Edo period (1615–1868)", objectDate="ca. 1650", objectBeginDate=1634,
                           objectEndDate=1666, artistDisplayName="Hōzōbō Shinkai"),
        # refused not_a_painting: a Qing porcelain cover
        45733: met_object(45733, base, objectName="Cover", title="Cover", classification="Ceramics",
                          period="Qing dynasty (1644–1911)", objectBeginDate=1662, objectEndDate=1722,
                          medium="Porcelain painted in underglaze blue"),
        # refused not_chinese: Chinese export ware in The American Wing (department)
        1000: met_object(1000, base, department="The American Wing", objectName="Bread plate",
                         title="Bread Plate", culture="Chinese, for American market", classification="",
                         objectDate="1800–1820", objectBeginDate=1800, objectEndDate=1820),
        # refused not_chinese: an Egyptian cat of 664-30 B.C. (years alone made it pre_qing)
        37805: met_object(37805, base, department="Egyptian Art", objectName="Statuette", title="Cat",
                          culture="", period="Late Period–Ptolemaic Period", classification="Sculpture",
                          objectDate="664–30 B.C.", objectBeginDate=-664, objectEndDate=-30),
        # kept: empty objectDate -> "1662–1722" written from the years; no period/dynasty -> years -> qing
        49470: met_object(49470, base, title="Cat", objectBeginDate=1662, objectEndDate=1722),
        # kept, object URL on a staging host: dropped from the record, with a warning
        36075: met_object(36075, base, title="Black Cat and Narcissus", period="Qing dynasty (1644–1911)",
                          objectDate="1820–50", objectBeginDate=1820, objectEndDate=1850,
                          objectURL="http://collection-staging.metmuseum.org/art/collection/search/36075"),
        # refused bad_field: a year given as a string
        49467: met_object(49467, base, title="Cat and Butterfly", objectBeginDate="1823",
                          objectEndDate=1896),
        # refused bad_field: no culture field at all
        49698: {k: v for k, v in met_object(49698, base, title="Cat").items() if k != "culture"},
        # kept: "Ming ... or Qing" names two periods -> the years decide (1600-1700, midpoint 1650: qing)
        60873: met_object(60873, base, title="Scholar in a Pavilion",
                          period="Ming (1368–1644) or Qing dynasty (1644–1911)", objectDate="17th century",
                          objectBeginDate=1600, objectEndDate=1700),
        # kept: B.C. years negative, the museum's period decides (pre_qing)
        42215: met_object(42215, base, title="Painted Banner Fragment",
                          period="Western Han dynasty (206 B.C.–A.D. 9)", objectDate="2nd century B.C.",
                          objectBeginDate=-200, objectEndDate=-101),
    }


# ---------------------------------------------------------------------------------------- Cleveland
# Shape checked against: openaccess-api.clevelandart.org (artworks listing: {"info": {"total",
# "parameters"}, "data": [...]}), the full artwork records 93014 (Thomas Cole) and 94979 (Copley) quoted
# in a public provider's documentation (culture a list, images.web with string width/height/filesize,
# "creators" list, many nulls), artwork 132015 (Du Jin, Ming, "late 1400s", 1460-1492, culture
# "China, Ming dynasty (1368–1644)") in a public app's README, and public harvesters reading
# creation_date_earliest/latest as integers. The API's own filter params (department, type) are ANDed by
# the museum; real pages still bring other departments when the query words match (issue 12).


def cma_artwork(i: int, accession: str, base: str, **fields: Any) -> dict[str, Any]:
    art = {
        "id": i, "accession_number": accession, "share_license_status": "CC0", "tombstone": "",
        "current_location": None, "title": "", "title_in_original_language": None, "series": None,
        "series_in_original_language": None, "creation_date": "", "creation_date_earliest": None,
        "creation_date_latest": None, "creators": [], "culture": ["China, Qing dynasty (1644-1912)"],
        "technique": "hanging scroll; ink on silk", "support_materials": [], "department": "Chinese Art",
        "collection": "Chinese Art", "type": "Painting", "measurements": "", "creditline": "",
        "copyright": None, "inscriptions": [], "provenance": [], "find_spot": None, "related_works": [],
        "fun_fact": None, "digital_description": None, "wall_description": None, "citations": [],
        "url": f"https://clevelandart.org/art/{accession}",
        "images": {"web": {"url": f"{base}/cma-cdn/{accession}_web.jpg", "filename": f"{accession}_web.jpg",
                           "filesize": "716717", "width": "1263", "height": "775"}},
        "updated_at": "2019-11-18 09:03:30.462000",
    }
    art.update(fields)
    return art


def cma_artworks(base: str) -> list[dict[str, Any]]:
    return [
        # kept: culture names the Ming dynasty (pre_qing)
        cma_artwork(132015, "1954.582", base, title="The Poet Lin Bu Wandering in the Moonlight",
                    creation_date="late 1400s", creation_date_earliest=1460, creation_date_latest=1492,
                    culture=["China, Ming dynasty (1368–1644)"]),
        # refused not_chinese: American paintings on the same page
        cma_artwork(93014, "1335.1917", base, title="View of Schroon Mountain, Essex County, New York, "
                    "After a Storm", creation_date="1838", creation_date_earliest=1838,
                    creation_date_latest=1838, culture=["America, 19th century"], technique="oil on canvas",
                    department="American Painting and Sculpture", collection="American - Painting"),
        cma_artwork(94979, "1915.534", base, title="Nathaniel Hurd", creation_date="c. 1765",
                    creation_date_earliest=1760, creation_date_latest=1770, culture=["America, 18th century"],
                    technique="oil on canvas", department="American Painting and Sculpture"),
        # refused not_a_painting: Chinese Art, type Ceramic
        cma_artwork(120001, "1915.268", base, title="Vase", type="Ceramic", technique="porcelain",
                    creation_date="1700s", creation_date_earliest=1700, creation_date_latest=1799),
        # kept: B.C. years given positive, earliest > latest; the display date says BCE
        cma_artwork(120002, "1938.1", base, title="Painted Silk Fragment", creation_date="c. 400–375 BCE",
                    creation_date_earliest=400, creation_date_latest=375,
                    culture=["China, Warring States period (475–221 BCE)"]),
        # refused unparseable_date: earliest > latest, nothing says B.C.
        cma_artwork(120003, "1960.42", base, title="Bamboo", creation_date="1750s",
                    creation_date_earliest=1759, creation_date_latest=1750, culture=["China"]),
        # kept: empty creation_date written from the years; no dynasty -> years -> modern
        cma_artwork(120004, "1985.5", base, title="Lotus", creation_date_earliest=1930,
                    creation_date_latest=1935, culture=["China, 20th century"]),
        # refused bad_field: culture a string, not the documented list
        cma_artwork(120005, "1970.7", base, title="Plum", culture="China", creation_date_earliest=1700,
                    creation_date_latest=1710),
        # kept: Qing; its image is served over http from a host that is not the museum's CDN (warning)
        cma_artwork(120006, "1980.9", base, title="Orchids", creation_date="1700s",
                    creation_date_earliest=1700, creation_date_latest=1799),
    ]


# ---------------------------------------------------------------------------------------------- AIC
# Shape checked against: api.artic.edu/docs (artworks/search: "preference", "pagination" {total, limit,
# offset, total_pages, current_page}, "data" rows with "_score", "info", "config" {"iiif_url":
# "https://www.artic.edu/iiif/2", "website_url": "http://www.artic.edu"}), public clients' fixtures
# (artwork 12086: "Western Zhou dynasty (1046–771 B.C.)", artwork_type_title "Metalwork",
# classification_title "bronze", department_title "Arts of Asia"; 91610: date_start -100; a Japanese
# painting with place_of_origin "Japan", style_titles ["Edo period"]; classification_title null on some
# records). With ``fields=...`` only the asked fields (and _score) come back.

AIC_FIELDS_OF_ROWS = ("id", "title", "image_id", "date_start", "date_end", "date_display", "place_of_origin",
                      "is_public_domain", "artwork_type_title", "classification_title", "department_title",
                      "style_title")


def aic_artwork(i: int, **fields: Any) -> dict[str, Any]:
    row = {"_score": 101.5, "id": i, "title": "", "image_id": f"{i:08d}-aaaa-bbbb-cccc-dddddddddddd",
           "date_start": None, "date_end": None, "date_display": "", "place_of_origin": "China",
           "is_public_domain": True, "artwork_type_title": "Painting", "classification_title": "hanging scroll",
           "department_title": "Arts of Asia", "style_title": None}
    row.update(fields)
    return row


def aic_artworks() -> list[dict[str, Any]]:
    return [
        # kept: style_title decides (qing)
        aic_artwork(24645, title="Landscape after Wang Meng", date_start=1700, date_end=1799,
                    date_display="Qing dynasty (1644–1911), 18th century", style_title="Qing dynasty (1644-1911)"),
        # refused not_chinese: a European painting (years alone made it qing)
        aic_artwork(27992, title="A Sunday on La Grande Jatte", place_of_origin="France", date_start=1884,
                    date_end=1886, date_display="1884–86", classification_title="painting",
                    department_title="Painting and Sculpture of Europe"),
        # refused not_a_painting: a Western Zhou bronze
        aic_artwork(12086, title="Ritual bronze ding vessel", date_start=-1046, date_end=-771,
                    date_display="Western Zhou dynasty (1046–771 B.C.)", artwork_type_title="Metalwork",
                    classification_title="bronze"),
        # kept: "n.d." display with years 1865/1880 -> date written from the years, period from years
        aic_artwork(4575, title="Fisherman", date_start=1865, date_end=1880, date_display="n.d.",
                    classification_title=None),
        # refused not_chinese: a Japanese Edo painting
        aic_artwork(101, title="Untitled", place_of_origin="Japan", date_start=1800, date_end=1800,
                    date_display="1800", style_title="Edo period"),
        # refused not_chinese: no place of origin (null)
        aic_artwork(102, title="Study", place_of_origin=None, date_start=1889, date_end=1889,
                    date_display="1889"),
        # refused bad_field: date_start a string
        aic_artwork(103, title="Bamboo and Rock", date_start="1700", date_end=1750, date_display="1700–50"),
        # not kept, not public domain
        aic_artwork(104, title="Mountains", is_public_domain=False, date_start=1950, date_end=1950,
                    date_display="1950"),
    ]
