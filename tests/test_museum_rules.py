"""What each museum source keeps and refuses, on responses shaped like the real ones (museum_fixtures).

A search for "chinese painting" returns Japanese scrolls, porcelain, export ware, American and
European paintings, bronzes and items with broken fields beside the Chinese paintings; only the
latter are kept, each refusal is listed in not_collected.jsonl with its reason and counted in the
collect metrics, and the kept ones carry a period with where it came from.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from inkgen.config import load
from inkgen.data.collect import not_collected_table
from inkgen.stages.collect import run as run_collect
from inkgen.data.raw_store import RawStore
from inkgen.data.records import read_records
from inkgen.data.sources import AicSource, ClevelandSource
from inkgen.data.sources.dating import date_item, years_text
from inkgen.data.sources.rules import ItemRefused, check_url, museum_rules, screen
from museum_fixtures import aic_artworks, cma_artworks, met_objects
from inkgen.data.sources.http import HttpClient
from museum_server import ROOT, MuseumServer, RecordingSleep, Reply, collect_params, noisy_jpeg


def client(tmp_path) -> HttpClient:
    return HttpClient(user_agent="inkgen-tests/1.0 (loopback)", timeout_s=2.0, retries=1, backoff_s=0.01,
                      rate_per_s=1000.0, cache_dir=tmp_path / "http_cache", sleep=RecordingSleep())


def kinds(table) -> dict[str, str]:
    return dict(zip(table.item_id, table.kind))


# -------------------------------------------------------------------------------------------- the Met
def test_met_keeps_only_chinese_paintings_and_dates_them(tmp_path):
    with MuseumServer() as server:
        objects = met_objects(server.url)
        server.route("/met/search", Reply.json({"total": len(objects), "objectIDs": list(objects)}))
        for i, obj in objects.items():
            server.route(f"/met/objects/{i}", Reply.json(obj))
            server.route(f"/met-img/web-large/{i}.jpg", Reply.image(noisy_jpeg(seed=i)))
        params = load(ROOT / "params.yaml")
        params = dataclasses.replace(params, paths=dataclasses.replace(params.paths, raw="raw",
                                                                         http_cache="cache"),
                                     collect=collect_params("met", server.url))
        summary = run_collect(params, root=tmp_path, http=client(tmp_path))
        fetched_images = {p for p in server.paths() if p.startswith("/met-img/")}
    records = {r.item_id: r for r in read_records(tmp_path / "raw" / "records.jsonl")}
    assert sorted(records) == ["met-36075", "met-42215", "met-49470", "met-51868", "met-60873", "met-65555"]
    assert kinds(not_collected_table(tmp_path / "raw")) == {
        "met-752008": "not_chinese", "met-45733": "not_a_painting", "met-1000": "not_chinese",
        "met-37805": "not_chinese", "met-49467": "bad_field", "met-49698": "bad_field"}
    assert fetched_images == {f"/met-img/web-large/{r.removeprefix('met-')}.jpg" for r in records}
    assert dict(summary.not_collected) == {"not_chinese": 3, "not_a_painting": 1, "bad_field": 2}
    metrics = json.loads((tmp_path / params.paths.metrics / "collect.json").read_text())
    assert metrics["not_collected"] == {"bad_field": 2, "not_a_painting": 1, "not_chinese": 3}
    assert metrics["period_sources"] == {"museum period": 4, "years": 2}

    period = {k: (r.period, r.period_source) for k, r in records.items()}
    assert period == {"met-65555": ("qing", "museum period"), "met-51868": ("qing", "museum period"),
                      "met-49470": ("qing", "years"), "met-36075": ("qing", "museum period"),
                      "met-60873": ("qing", "years"), "met-42215": ("pre_qing", "museum period")}
    assert records["met-49470"].date == "1662–1722"  # objectDate was ""
    assert "written from the years" in records["met-49470"].metadata["dating"]["notes"][0]
    assert "more than one period" in records["met-60873"].metadata["dating"]["notes"][0]
    assert records["met-42215"].metadata["dating"]["begin"] == -200
    # the staging object URL is not kept; the warning names it
    assert records["met-36075"].object_url is None
    assert any("collection-staging.metmuseum.org" in w for w in records["met-36075"].metadata["url_warnings"])
    assert records["met-65555"].object_url == "https://www.metmuseum.org/art/collection/search/65555"
    assert summary.url_warnings == 6  # every image came from the test server, not images.metmuseum.org
    table = not_collected_table(tmp_path / "raw").set_index("item_id")
    assert table.reason["met-752008"] == "not_chinese: culture='Japan' does not name China"
    assert table.reason["met-49467"].startswith("bad_field: 'objectBeginDate' is str '1823', not int")
    assert table.reason["met-49698"] == "bad_field: the required field 'culture' is missing"
    assert "The American Wing" in table.reason["met-1000"]


# ------------------------------------------------------------------------------------------ Cleveland
def test_cleveland_rechecks_department_type_culture_and_reads_bce_years(tmp_path):
    with MuseumServer() as server:
        artworks = cma_artworks(server.url)
        artworks[-1]["images"]["web"]["url"] = f"{server.url}/cma-cdn/1980.9_web.jpg"
        server.route("/cma/artworks/", Reply.json({"info": {"total": len(artworks), "parameters": {}},
                                                   "data": artworks}))
        for art in artworks:
            server.route(f"/cma-cdn/{art['accession_number']}_web.jpg", Reply.image(noisy_jpeg(seed=art["id"])))
        store = RawStore(tmp_path / "raw")
        stats = ClevelandSource(collect_params("cleveland", server.url), client(tmp_path)).collect(store)
    assert sorted(store.records) == ["cma-120002", "cma-120004", "cma-120006", "cma-132015"]
    assert {k: e.reason.split(":")[0] for k, e in store.skipped.items()} == {
        "cma-93014": "not_chinese", "cma-94979": "not_chinese", "cma-120001": "not_a_painting",
        "cma-120003": "unparseable_date", "cma-120005": "bad_field"}
    assert dict(stats.refused) == {"not_chinese": 2, "not_a_painting": 1, "unparseable_date": 1, "bad_field": 1}
    ming, bce, modern = store.records["cma-132015"], store.records["cma-120002"], store.records["cma-120004"]
    assert (ming.period, ming.period_source) == ("pre_qing", "museum culture")
    assert (bce.period, bce.period_source) == ("pre_qing", "museum culture")
    assert (bce.metadata["dating"]["begin"], bce.metadata["dating"]["end"]) == (-400, -375)
    assert "negated" in bce.metadata["dating"]["notes"][0]
    assert (modern.period, modern.period_source, modern.date) == ("modern", "years", "1930–1935")
    assert ming.object_url == "https://clevelandart.org/art/1954.582"
    assert "earliest year 1759 > latest year 1750" in store.skipped["cma-120003"].reason
    assert store.skipped["cma-93014"].object_url is None and store.skipped["cma-93014"].context["culture"] == [
        "America, 19th century"]


# ------------------------------------------------------------------------------------------------ AIC
def test_aic_keeps_chinese_paintings_and_builds_images_on_the_response_iiif_url(tmp_path):
    rows = aic_artworks()
    with MuseumServer() as server:
        server.route("/aic/artworks/search", Reply.json({
            "preference": None,
            "pagination": {"total": len(rows), "limit": 100, "offset": 0, "total_pages": 1, "current_page": 1},
            "data": rows, "info": {"license_text": "CC0", "version": "1.13"},
            "config": {"iiif_url": f"{server.url}/iiif-moved/2", "website_url": "http://www.artic.edu"}}))
        for row in rows:
            server.route(f"/iiif-moved/2/{row['image_id']}/full/843,/0/default.jpg",
                         Reply.image(noisy_jpeg(seed=row["id"])))
        collect = collect_params("aic", server.url, aic_image_url="https://stale.example/iiif/2")
        store = RawStore(tmp_path / "raw")
        stats = AicSource(collect, client(tmp_path)).collect(store)
    assert sorted(store.records) == ["aic-24645", "aic-4575"]
    assert {k: e.reason.split(":")[0] for k, e in store.skipped.items()} == {
        "aic-27992": "not_chinese", "aic-12086": "not_a_painting", "aic-101": "not_chinese",
        "aic-102": "not_chinese", "aic-103": "bad_field", "aic-104": "not_public_domain"}
    assert dict(stats.refused) == {"not_chinese": 3, "not_a_painting": 1, "bad_field": 1}
    qing, undated = store.records["aic-24645"], store.records["aic-4575"]
    assert (qing.period, qing.period_source) == ("qing", "museum style_title")
    assert (undated.period, undated.period_source, undated.date) == ("qing", "years", "1865–1880")
    assert qing.url.startswith(f"{server.url}/iiif-moved/2/00024645-")
    assert qing.object_url == "https://www.artic.edu/artworks/24645"


# ------------------------------------------------------------------------------- rules and dating
@pytest.mark.parametrize("obj, kind", [
    ({"culture": "China"}, "bad_field"),  # most required fields missing
    ({**met_objects("https://x")[65555], "isPublicDomain": "true"}, "bad_field"),  # a string, not a bool
    ({**met_objects("https://x")[65555], "objectBeginDate": True}, "bad_field"),  # a bool is not a year
    ({**met_objects("https://x")[65555], "culture": None}, "bad_field"),
    ({**met_objects("https://x")[65555], "classification": "Calligraphy"}, "not_a_painting"),
    ({**met_objects("https://x")[65555], "culture": "Indochina"}, "not_chinese"),  # whole words only
])
def test_met_screen_refuses_with_the_reason(obj, kind):
    with pytest.raises(ItemRefused) as err:
        screen(obj, museum_rules("met"))
    assert err.value.kind == kind


def test_dating_bce_spans_and_display_fill():
    rules = museum_rules("cleveland")
    span = date_item({"creation_date": "206 BCE–9 CE", "creation_date_earliest": 206, "creation_date_latest": 9,
                      "culture": ["China"]}, rules)
    assert (span.begin, span.end, span.period, span.period_source) == (-206, 9, "pre_qing", "years")
    old = date_item({"creation_date": "1700–1650 BCE", "creation_date_earliest": 1700,
                     "creation_date_latest": 1650, "culture": ["China"]}, rules)
    assert (old.begin, old.end, old.period) == (-1700, -1650, "pre_qing")  # not "qing"
    assert years_text(-400, -375) == "400–375 B.C." and years_text(-206, 9) == "206 B.C.–A.D. 9"
    assert years_text(None, None) is None and years_text(1700, 1700) == "1700"
    unknown = date_item({"objectBeginDate": 0, "objectEndDate": 0, "objectDate": ""}, museum_rules("met"))
    assert (unknown.period, unknown.period_source, unknown.display) == (None, None, None)


def test_check_url():
    hosts = ["images.metmuseum.org"]
    assert check_url("https://images.metmuseum.org/a.jpg", hosts, "image URL") == (
        "https://images.metmuseum.org/a.jpg", None)
    _, warning = check_url("http://images.metmuseum.org/a.jpg", hosts, "image URL")
    assert warning == "image URL 'http://images.metmuseum.org/a.jpg': scheme 'http' is not https"
    _, warning = check_url("https://staging.metmuseum.org/a.jpg", hosts, "image URL")
    assert "host 'staging.metmuseum.org' is not one of" in warning
