"""The museum sources and their HTTP client against a scripted server on 127.0.0.1 (never the internet).

Responses follow each API's documented JSON (see the module docstrings of inkgen.data.sources.met,
.cleveland and .aic); faults are scripted per URL: timeouts, 429 with Retry-After, 5xx, malformed
JSON, missing and corrupt images, items that are not public domain.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inkgen.config import load
from inkgen.data.collect import not_collected_table, quarantine_table
from inkgen.stages.collect import run as run_collect
from inkgen.data.raw_store import RawStore
from inkgen.data.records import read_records
from inkgen.data.sources import AicSource, ClevelandSource, MetSource, SourceError, make_client
from inkgen.data.sources.dating import period_of_years
from inkgen.data.sources.http import FetchError, HttpClient, retry_after_seconds
from museum_server import HTML_ERROR, ROOT, MuseumServer, RecordingSleep, Reply, collect_params, noisy_jpeg

UA = "inkgen-tests/1.0 (loopback)"
TIMEOUT_S = 0.5  # generous for a loaded machine, so that only the scripted slow replies time out
SLOW_S = 0.8


def client(tmp_path: Path, sleep=None, **overrides) -> HttpClient:
    options = dict(user_agent=UA, timeout_s=TIMEOUT_S, retries=2, backoff_s=0.5, rate_per_s=1000.0,
                   cache_dir=tmp_path / "http_cache", sleep=sleep or RecordingSleep())
    options.update(overrides)
    return HttpClient(**options)


# ------------------------------------------------------------------------------------------ the client
def test_retries_with_exponential_backoff_then_names_url_and_status(tmp_path):
    sleep = RecordingSleep()
    with MuseumServer() as server:
        server.route("/broken", Reply(500, b"oops"))
        http = client(tmp_path, sleep, retries=3)
        with pytest.raises(FetchError) as err:
            http.get(f"{server.url}/broken")
        assert server.count("/broken") == 4
    assert sleep.backoffs() == [0.5, 1.0, 2.0]
    assert err.value.kind == "http_500" and err.value.status == 500 and err.value.body == b"oops"
    assert f"{server.url}/broken" in str(err.value) and "HTTP 500" in str(err.value)
    assert "4 attempt" in str(err.value)


def test_honours_retry_after_and_does_not_retry_404(tmp_path):
    sleep = RecordingSleep()
    with MuseumServer() as server:
        server.route("/limited", Reply(429, b"", {"Retry-After": "7"}), Reply.json({"ok": True}))
        server.route("/gone", Reply(404, b"not here"))
        http = client(tmp_path, sleep)
        assert http.get_json(f"{server.url}/limited").data == {"ok": True}
        with pytest.raises(FetchError) as err:
            http.get(f"{server.url}/gone")
        assert server.count("/gone") == 1
    assert sleep.backoffs() == [7.0]
    assert err.value.kind == "http_404"
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert retry_after_seconds("soon") is None


def test_timeout_is_retried_and_reported(tmp_path):
    with MuseumServer() as server:
        server.route("/slow-once", Reply.json({}, delay_s=SLOW_S), Reply.json({"late": False}))
        server.route("/always-slow", Reply.json({}, delay_s=SLOW_S))
        http = client(tmp_path, retries=1)
        started = time.monotonic()
        assert http.get_json(f"{server.url}/slow-once").data == {"late": False}
        with pytest.raises(FetchError) as err:
            http.get(f"{server.url}/always-slow")
        assert time.monotonic() - started < 4.0
    assert err.value.kind == "timeout" and "timeout after 0.5 s" in str(err.value)


def test_malformed_json_names_the_position_and_is_not_cached(tmp_path):
    with MuseumServer() as server:
        server.route("/bad", Reply(200, b'{"objectIDs": [1, 2,, 3]}'))
        http = client(tmp_path)
        for _ in range(2):
            with pytest.raises(FetchError) as err:
                http.get_json(f"{server.url}/bad")
        assert server.count("/bad") == 2
    assert err.value.kind == "malformed_json"
    assert "line 1 column 21 (char 20)" in str(err.value) and err.value.body.startswith(b'{"objectIDs"')


def test_cache_serves_repeats_and_ignores_damaged_entries(tmp_path):
    with MuseumServer() as server:
        server.route("/thing", Reply.json({"n": 1}))
        http = client(tmp_path)
        first = http.get_json(f"{server.url}/thing", {"q": "ink wash", "page": 2})
        again = client(tmp_path).get_json(f"{server.url}/thing", {"q": "ink wash", "page": 2})
        assert server.count("/thing") == 1 and again.from_cache and again.data == {"n": 1}
        assert again.retrieved_at == first.retrieved_at
        for body in (tmp_path / "http_cache").rglob("*.body"):
            body.write_bytes(b"damaged")  # e.g. a disk error: the sidecar's hash no longer matches
        assert client(tmp_path).get_json(f"{server.url}/thing", {"q": "ink wash", "page": 2}).data == {"n": 1}
        assert server.count("/thing") == 2
        assert server.requests[0].query == {"q": ["ink wash"], "page": ["2"]}


def assert_spaced(arrivals: list[float], interval: float) -> None:
    """Requests arrive no faster than the rate on average, and never in a burst.

    Arrival times are taken at the server, so each gap carries some milliseconds of jitter (connection
    set-up, thread scheduling on shared CPU cores); the span over all requests carries it only once.
    Without the limiter, all the requests arrive within a few milliseconds.
    """
    gaps = np.diff(arrivals)
    span = arrivals[-1] - arrivals[0]
    assert span >= (len(arrivals) - 1.25) * interval, gaps
    assert gaps.min() >= 0.6 * interval, gaps


def test_rate_limit_spaces_requests(tmp_path):
    with MuseumServer() as server:
        for i in range(8):
            server.route(f"/r{i}", Reply.json({"i": i}))
        http = client(tmp_path, sleep=time.sleep, rate_per_s=25.0)
        for i in range(8):
            http.get_json(f"{server.url}/r{i}")
        arrivals = [seen.at for seen in server.requests]
    assert len(arrivals) == 8
    assert_spaced(arrivals, 0.04)


def test_make_client_caps_aic_rate_and_adds_its_header(tmp_path):
    collect = collect_params("aic", "http://127.0.0.1:9", rate_per_s=4.0)
    aic = make_client(AicSource, collect, str(tmp_path))
    met = make_client(MetSource, collect, str(tmp_path))
    assert aic.min_interval_s == pytest.approx(1.0) and met.min_interval_s == pytest.approx(0.25)
    assert aic.session.headers["AIC-User-Agent"] == UA and aic.session.headers["User-Agent"] == UA
    assert "AIC-User-Agent" not in met.session.headers


def test_slow_drip_body_is_cut_off_by_the_overall_deadline(tmp_path):
    # Each byte arrives well within the per-read timeout, so only an overall deadline ends the request:
    # without it the client would wait the full 10 s and return the body.
    with MuseumServer() as server:
        server.route("/drip", Reply.image(b"x" * 200, "image/jpeg"))
        server.routes["/drip"][0].drip_s = 0.05
        http = client(tmp_path, retries=0, timeout_s=0.3)
        started = time.monotonic()
        with pytest.raises(FetchError) as err:
            http.get(f"{server.url}/drip")
        elapsed = time.monotonic() - started
    assert http.deadline_s == pytest.approx(0.9)  # timeout_s * DEADLINE_FACTOR
    assert err.value.kind == "timeout" and "0.9 s deadline" in str(err.value)
    assert 0.8 <= elapsed < 2.5, elapsed


@pytest.mark.parametrize("url, error", [
    ("example.org/img/1.jpg", "MissingSchema"),
    ("ftp://example.org/img/1.jpg", "InvalidSchema"),
    ("http://", "InvalidURL"),
])
def test_unusable_urls_fail_at_once_without_retries(tmp_path, url, error):
    sleep = RecordingSleep()
    http = client(tmp_path, sleep, retries=4)
    with pytest.raises(FetchError) as err:
        http.get(url)
    assert err.value.kind == "invalid_url" and error in str(err.value) and url in str(err.value)
    assert sleep.backoffs() == [] and http.stats.retries == 0 and http.stats.requests == 1


def test_image_responses_that_are_not_images_are_not_cached_and_can_be_evicted(tmp_path):
    with MuseumServer() as server:
        server.route("/page.jpg", Reply.image(HTML_ERROR, "text/html; charset=utf-8"))
        server.route("/real.jpg", Reply.image(noisy_jpeg()))
        http = client(tmp_path)
        for _ in range(2):
            assert http.get_image(f"{server.url}/page.jpg").body == HTML_ERROR
        assert server.count("/page.jpg") == 2  # text/html where an image was asked for: never cached
        http.get_image(f"{server.url}/real.jpg")
        assert http.get_image(f"{server.url}/real.jpg").from_cache and server.count("/real.jpg") == 1
        assert http.evict(f"{server.url}/real.jpg") and not http.evict(f"{server.url}/real.jpg")
        assert not http.get_image(f"{server.url}/real.jpg").from_cache and server.count("/real.jpg") == 2


# -------------------------------------------------------------------------------------------- the Met
def met_object(object_id: int, base: str, *, public: bool = True, begin: int = 1700, end: int = 1750,
               image: str | None = "auto", period: str = "auto") -> dict:
    """A Met object shaped as the API answers (museum_fixtures.met_objects has real ones)."""
    small = f"{base}/img/{object_id}.jpg" if image == "auto" else image
    if period == "auto":  # the museum's period agrees with the years, as on real records
        period = {"pre_qing": "Ming dynasty (1368–1644)", "qing": "Qing dynasty (1644–1911)"}.get(
            period_of_years(begin, end), "")
    return {
        "objectID": object_id, "isPublicDomain": public, "accessionNumber": f"13.100.{object_id}",
        "primaryImage": small.replace("/img/", "/original/") if small else "",
        "primaryImageSmall": small or "", "department": "Asian Art", "title": f"Landscape {object_id}",
        "objectName": "Hanging scroll", "culture": "China", "period": period,
        "dynasty": "", "objectDate": f"{begin}-{end}", "objectBeginDate": begin, "objectEndDate": end,
        "medium": "Ink on paper", "classification": "Paintings",
        "objectURL": f"https://www.metmuseum.org/art/collection/search/{object_id}",
        "constituents": [{"role": "Artist", "name": "Anonymous"}],
    }


def met_server(server: MuseumServer) -> None:
    """Twelve objects, one per behaviour; see test_met_keeps_public_domain_and_quarantines_failures."""
    base = server.url
    obj = lambda i, **kw: Reply.json(met_object(i, base, **kw))  # noqa: E731
    server.route("/met/search", Reply.json({"total": 12, "objectIDs": list(range(101, 113))}))
    server.route("/met/objects/101", obj(101))
    server.route("/met/objects/102", Reply(429, b"slow down", {"Retry-After": "7"}), obj(102, begin=1500,
                                                                                          end=1550))
    server.route("/met/objects/103", Reply(500, b"oops"), obj(103, begin=1930, end=1935))
    server.route("/met/objects/104", Reply(500, b"down for good"))
    server.route("/met/objects/105", Reply.json({}, delay_s=SLOW_S), obj(105, begin=0, end=0))
    server.route("/met/objects/106", Reply(200, b'{"objectID": 106, "isPublicDomain": tru'))
    server.route("/met/objects/107", obj(107))
    server.route("/met/objects/108", obj(108, public=False, image=None))
    server.route("/met/objects/109", obj(109))
    server.route("/met/objects/110", obj(110))
    server.route("/met/objects/111", obj(111, image=None))
    server.route("/met/objects/112", Reply.json({}, delay_s=SLOW_S))
    rgba = Image.new("RGBA", (20, 10), (0, 0, 0, 0))
    rgba.paste((200, 0, 0, 255), (0, 0, 10, 10))
    server.route("/img/101.jpg", Reply.image(noisy_jpeg()))
    server.route("/img/102.jpg", Reply.image(_png(rgba), "image/png"))
    server.route("/img/103.jpg", Reply.image(noisy_jpeg(seed=3)))
    server.route("/img/105.jpg", Reply.image(noisy_jpeg(seed=5)))
    server.route("/img/107.jpg", Reply(404, b"<html>Not Found</html>"))
    server.route("/img/109.jpg", Reply.image(noisy_jpeg(seed=9)[:400]))
    server.route("/img/110.jpg", Reply.image(HTML_ERROR, "text/html"))


def _png(image: Image.Image) -> bytes:
    import io

    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def met_params(server: MuseumServer, tmp_path: Path, **museum):
    params = load(ROOT / "params.yaml")
    paths = dataclasses.replace(params.paths, raw="raw", http_cache="http_cache")
    museum = {"timeout_s": TIMEOUT_S, **museum}
    return dataclasses.replace(params, paths=paths, collect=collect_params("met", server.url, **museum))


EXPECTED_MET_QUARANTINE = {
    "met-104": "detail_http_500", "met-106": "detail_malformed_json", "met-107": "image_http_404",
    "met-109": "truncated", "met-110": "not_an_image", "met-111": "no_image", "met-112": "detail_timeout",
}


def test_met_keeps_public_domain_and_quarantines_failures(tmp_path):
    sleep = RecordingSleep()
    with MuseumServer() as server:
        met_server(server)
        params = met_params(server, tmp_path)
        summary = run_collect(params, root=tmp_path, http=client(tmp_path, sleep, retries=1))
        assert server.count("/img/108.jpg") == 0 and server.count("/original/108.jpg") == 0
        assert all(seen.headers.get("User-Agent") == UA for seen in server.requests)
        assert summary.http_requests == len(server.requests) and summary.http_cache_hits == 0
        assert summary.http_retries == 5  # one each: 102 (429), 103 (500), 104 (500), 105 and 112 (timeout)
        assert server.requests[0].query == {"q": [params.collect.museum.query], "hasImages": ["true"],
                                            "departmentId": ["6"]}
    records = {r.item_id: r for r in read_records(tmp_path / "raw" / "records.jsonl")}
    assert sorted(records) == ["met-101", "met-102", "met-103", "met-105"]
    assert summary.kept == 4 and summary.quarantined == 7 and summary.skipped_not_public_domain == 1
    assert dict(summary.reasons) == {kind: 1 for kind in EXPECTED_MET_QUARANTINE.values()}
    assert 7.0 in sleep.backoffs()  # the 429's Retry-After was waited out, not the computed backoff

    table = quarantine_table(tmp_path / "raw")
    assert dict(zip(table.item_id, table.kind)) == EXPECTED_MET_QUARANTINE
    kept_bytes = table.set_index("item_id").file.dropna()
    assert set(kept_bytes.index) == {"met-104", "met-106", "met-107", "met-109", "met-110"}
    assert (tmp_path / "raw" / kept_bytes["met-106"]).read_bytes().startswith(b'{"objectID": 106')
    assert "HTTP 500" in table.set_index("item_id").reason["met-104"]
    # the object that is not public domain is not stored, but it is listed with its reason
    left_out = not_collected_table(tmp_path / "raw")
    assert left_out[["item_id", "source", "kind"]].values.tolist() == [["met-108", "met", "not_public_domain"]]
    assert "isPublicDomain" in left_out.reason[0] and left_out.object_url[0].endswith("/108")

    r101, r102 = records["met-101"], records["met-102"]
    assert r101.license.startswith("CC0-1.0") and r101.url == f"{server.url}/img/101.jpg"
    assert r101.object_url.endswith("/101") and r101.title == "Landscape 101" and r101.date == "1700-1750"
    assert (r101.period, r102.period, records["met-103"].period, records["met-105"].period) == (
        "qing", "pre_qing", "modern", None)
    assert r101.metadata["medium"] == "Ink on paper" and r101.metadata["isPublicDomain"] is True
    assert r101.retrieved_at.endswith("+00:00")
    rgb = np.asarray(Image.open(tmp_path / "raw" / r102.file))
    assert rgb.shape == (10, 20, 3) and tuple(rgb[5, 15]) == (255, 255, 255) and tuple(rgb[5, 2]) == (200, 0, 0)


def test_met_rerun_fetches_only_what_failed(tmp_path):
    with MuseumServer() as server:
        met_server(server)
        params = met_params(server, tmp_path)
        run_collect(params, root=tmp_path, http=client(tmp_path, retries=1))
        first = (tmp_path / "raw" / "records.jsonl").read_bytes()
        server.reset_log()
        summary = run_collect(params, root=tmp_path, http=client(tmp_path, retries=1))
        again = set(server.paths())
    # failed requests, and images that intake refused (evicted from the cache, so fetched again)
    assert again == {"/met/objects/104", "/met/objects/106", "/img/107.jpg", "/met/objects/112",
                     "/img/109.jpg", "/img/110.jpg"}
    assert (tmp_path / "raw" / "records.jsonl").read_bytes() == first  # retrieved_at comes from the cache
    assert summary.kept == 4 and summary.http_cache_hits > 0


class InterruptingStore(RawStore):
    """Stops the run (as Ctrl-C would) when the n-th image is about to be stored."""

    def __init__(self, root, stop_at: int):
        super().__init__(root)
        self.stop_at = stop_at

    def add_image(self, item_id, image, **fields):
        if len(self.records) + 1 == self.stop_at:
            raise KeyboardInterrupt
        return super().add_image(item_id, image, **fields)


def plain_met_server(server: MuseumServer, n: int) -> None:
    """``n`` public-domain objects that all work."""
    server.route("/met/search", Reply.json({"total": n, "objectIDs": list(range(1, n + 1))}))
    for i in range(1, n + 1):
        server.route(f"/met/objects/{i}", Reply.json(met_object(i, server.url)))
        server.route(f"/img/{i}.jpg", Reply.image(noisy_jpeg(seed=i)))


def test_met_resumes_after_an_interruption(tmp_path):
    with MuseumServer() as server:
        plain_met_server(server, 4)
        collect = collect_params("met", server.url)
        with pytest.raises(KeyboardInterrupt):
            MetSource(collect, client(tmp_path)).collect(InterruptingStore(tmp_path / "raw", stop_at=3))
        assert server.count("/img/3.jpg") == 1 and server.count("/img/4.jpg") == 0
        server.reset_log()
        store = RawStore(tmp_path / "raw")
        MetSource(collect, client(tmp_path)).collect(store)
        assert server.paths() == ["/met/objects/4", "/img/4.jpg"]
    assert sorted(store.records) == ["met-1", "met-2", "met-3", "met-4"]


def test_met_stops_at_max_items_and_respects_the_rate(tmp_path):
    with MuseumServer() as server:
        plain_met_server(server, 5)
        collect = collect_params("met", server.url, max_items=3)
        store = RawStore(tmp_path / "raw")
        http = client(tmp_path, sleep=time.sleep, rate_per_s=20.0)
        MetSource(collect, http).collect(store)
        arrivals = [seen.at for seen in server.requests]
        assert server.paths()[-1] == "/img/3.jpg" and server.count("/met/objects/4") == 0
    assert sorted(store.records) == ["met-1", "met-2", "met-3"] and len(arrivals) == 7
    assert_spaced(arrivals, 0.05)  # search, details and images share one budget


@pytest.mark.parametrize("reply, message", [
    (Reply(503, b"maintenance"), "HTTP 503"),
    (Reply(200, b"<html>captcha</html>"), "malformed JSON at line 1 column 1"),
    (Reply.json({"total": 1, "ids": [1]}), "expected an object with 'objectIDs'"),
])
def test_met_listing_failure_is_an_error(tmp_path, reply, message):
    with MuseumServer() as server:
        server.route("/met/search", reply)
        with pytest.raises(SourceError, match=message) as err:
            MetSource(collect_params("met", server.url), client(tmp_path)).collect(RawStore(tmp_path / "r"))
    assert "/met/search?q=" in str(err.value)


def test_image_refused_by_intake_is_fetched_again_on_the_next_run(tmp_path):
    # A CDN hiccup serves an HTML error page with status 200 where an image belongs: once as text/html,
    # once even labelled image/jpeg. Both are quarantined; once the CDN is fixed, a re-run keeps both
    # (without eviction the cached error page would be quarantined again on every run).
    with MuseumServer() as server:
        plain_met_server(server, 3)
        server.route("/img/1.jpg", Reply.image(HTML_ERROR, "text/html"))
        server.route("/img/2.jpg", Reply.image(HTML_ERROR, "image/jpeg"))
        params = met_params(server, tmp_path)
        first = run_collect(params, root=tmp_path, http=client(tmp_path))
        assert first.kept == 1 and dict(first.reasons) == {"not_an_image": 2}
        first_table = quarantine_table(tmp_path / "raw")
        server.route("/img/1.jpg", Reply.image(noisy_jpeg(seed=1)))
        server.route("/img/2.jpg", Reply.image(noisy_jpeg(seed=2)))
        server.reset_log()
        second = run_collect(params, root=tmp_path, http=client(tmp_path))
        assert sorted(server.paths()) == ["/img/1.jpg", "/img/2.jpg"]  # all else from the cache
    assert second.kept == 3 and second.quarantined == 0
    assert sorted(r.item_id for r in read_records(tmp_path / "raw" / "records.jsonl")) == [
        "met-1", "met-2", "met-3"]
    assert first_table.content_type.tolist() == ["text/html", "image/jpeg"]  # kept as quarantine context


def test_met_department_comes_from_params(tmp_path):
    with MuseumServer() as server:
        plain_met_server(server, 1)
        store = RawStore(tmp_path / "raw")
        MetSource(collect_params("met", server.url, met_department_id=42), client(tmp_path)).collect(store)
        assert server.requests[0].query["departmentId"] == ["42"]
    assert sorted(store.records) == ["met-1"]


def test_met_empty_search_keeps_nothing(tmp_path):
    with MuseumServer() as server:
        server.route("/met/search", Reply.json({"total": 0, "objectIDs": None}))
        store = RawStore(tmp_path / "raw")
        stats = MetSource(collect_params("met", server.url), client(tmp_path)).collect(store)
    assert stats.seen == 0 and not store.records and not store.quarantined


# -------------------------------------------------------------------------------------- Cleveland
def cma_artwork(i: int, base: str, *, licence: str = "CC0", image: bool = True) -> dict:
    return {
        "id": i, "accession_number": f"1980.{i}", "share_license_status": licence,
        "title": f"Bamboo {i}", "creation_date": "c. 1650", "creation_date_earliest": 1640,
        "creation_date_latest": 1660, "culture": ["China, Qing dynasty (1644-1912)"],
        "technique": "hanging scroll; ink on paper", "department": "Chinese Art", "type": "Painting",
        "url": f"https://clevelandart.org/art/1980.{i}", "provenance": [{"description": "long"}],
        "images": {"web": {"url": f"{base}/cdn/{i}_web.jpg", "width": 64, "height": 64}} if image else None,
    }


def cma_server(server: MuseumServer, artworks: list[dict]) -> None:
    def listing(seen):
        q = {k: v[0] for k, v in seen.query.items()}
        skip, limit = int(q["skip"]), int(q["limit"])
        return Reply.json({"info": {"total": len(artworks), "parameters": q},
                           "data": artworks[skip:skip + limit]})

    server.route("/cma/artworks/", listing)


def test_cleveland_pages_checks_licence_and_quarantines(tmp_path):
    with MuseumServer() as server:
        base = server.url
        artworks = [cma_artwork(1, base), cma_artwork(2, base, licence="Copyrighted"), cma_artwork(3, base),
                    cma_artwork(4, base), cma_artwork(5, base), cma_artwork(6, base, image=False),
                    cma_artwork(7, base)]
        cma_server(server, artworks)
        grey16 = np.array([[0, 32896, 65535]] * 3, dtype=np.uint16)
        server.route("/cdn/1_web.jpg", Reply.image(noisy_jpeg(seed=1)))
        server.route("/cdn/3_web.jpg", Reply(404, b"missing"))
        server.route("/cdn/4_web.jpg", Reply.image(b"\xff\xd8\xff\xe0" + b"\x00" * 64))
        server.route("/cdn/5_web.jpg", Reply.image(_png(Image.fromarray(grey16)), "image/png"))
        server.route("/cdn/7_web.jpg", Reply.image(noisy_jpeg(seed=7)))
        store = RawStore(tmp_path / "raw")
        stats = ClevelandSource(collect_params("cleveland", base), client(tmp_path), page_size=3).collect(store)
        listing = [s.query for s in server.requests if s.path == "/cma/artworks/"]
        assert server.count("/cdn/2_web.jpg") == 0
    assert [q["skip"] for q in listing] == [["0"], ["3"], ["6"]]
    assert listing[0]["department"] == ["Chinese Art"] and listing[0]["type"] == ["Painting"]
    assert listing[0]["cc0"] == ["1"] and listing[0]["has_image"] == ["1"] and listing[0]["limit"] == ["3"]
    assert sorted(store.records) == ["cma-1", "cma-5", "cma-7"]
    assert {k: q.reason.split(":")[0] for k, q in store.quarantined.items()} == {
        "cma-3": "image_http_404", "cma-4": "corrupt", "cma-6": "no_image"}
    assert stats.skipped_not_public_domain == 1
    rec = store.records["cma-5"]
    assert rec.license.startswith("CC0-1.0") and rec.period == "qing" and rec.date == "c. 1650"
    assert rec.object_url == "https://clevelandart.org/art/1980.5" and "provenance" not in rec.metadata
    assert rec.metadata["share_license_status"] == "CC0"
    grey = np.asarray(Image.open(tmp_path / "raw" / rec.file))
    assert grey[0, :, 0].tolist() == [0, 128, 255]  # 16-bit greyscale rescaled, not clipped


def test_cleveland_listing_that_shifts_between_pages_is_handled_once(tmp_path):
    # Between the two page requests a new artwork (8) is added at the front of the results, so the
    # second page (skip=3) starts with artwork 3 again. It is handled once; before, storing it a second
    # time raised and aborted the stage.
    with MuseumServer() as server:
        base = server.url
        artworks = [cma_artwork(i, base) for i in range(1, 6)]
        artworks[1] = cma_artwork(2, base, licence="Copyrighted")
        skips = []

        def listing(seen):
            skip, limit = int(seen.query["skip"][0]), int(seen.query["limit"][0])
            current = artworks if not skips else [cma_artwork(8, base)] + artworks
            skips.append(skip)
            return Reply.json({"info": {"total": len(current)}, "data": current[skip:skip + limit]})

        server.route("/cma/artworks/", listing)
        for i in (1, 3, 4, 5, 8):
            server.route(f"/cdn/{i}_web.jpg", Reply.image(noisy_jpeg(seed=i)))
        store = RawStore(tmp_path / "raw")
        stats = ClevelandSource(collect_params("cleveland", base), client(tmp_path), page_size=3).collect(store)
        assert server.count("/cdn/3_web.jpg") == 1
    assert skips == [0, 3]
    assert stats.duplicates_in_listing == 1 and stats.seen == 5
    assert sorted(store.records) == ["cma-1", "cma-3", "cma-4", "cma-5"]
    assert list(store.skipped) == ["cma-2"] and store.skipped["cma-2"].reason.startswith("not_public_domain:")


def test_cleveland_repeats_and_filters_reach_the_summary(tmp_path):
    with MuseumServer() as server:
        base = server.url
        rows = [cma_artwork(1, base), cma_artwork(2, base), cma_artwork(1, base), cma_artwork(2, base)]
        server.route("/cma/artworks/", Reply.json({"info": {"total": 4}, "data": rows}))
        server.route("/cdn/1_web.jpg", Reply.image(noisy_jpeg(seed=1)))
        server.route("/cdn/2_web.jpg", Reply(404, b"missing"))  # quarantined once, not twice
        params = met_params(server, tmp_path, cleveland_department="Japanese Art", cleveland_type="Print")
        params = dataclasses.replace(params, collect=dataclasses.replace(params.collect, source="cleveland"))
        summary = run_collect(params, root=tmp_path, http=client(tmp_path))
        query = server.requests[0].query
    assert query["department"] == ["Japanese Art"] and query["type"] == ["Print"]
    assert summary.duplicates_in_listing == 2 and summary.kept == 1 and summary.quarantined == 1
    metrics = (tmp_path / params.paths.metrics / "collect.json").read_text()
    assert '"duplicates_in_listing": 2' in metrics


def test_cleveland_stops_paging_at_max_items(tmp_path):
    with MuseumServer() as server:
        artworks = [cma_artwork(i, server.url) for i in range(1, 8)]
        cma_server(server, artworks)
        for i in range(1, 8):
            server.route(f"/cdn/{i}_web.jpg", Reply.image(noisy_jpeg(seed=i)))
        store = RawStore(tmp_path / "raw")
        ClevelandSource(collect_params("cleveland", server.url, max_items=3), client(tmp_path),
                        page_size=3).collect(store)
        assert server.count("/cma/artworks/") == 1 and server.count("/cdn/4_web.jpg") == 0
    assert sorted(store.records) == ["cma-1", "cma-2", "cma-3"]


def test_cleveland_listing_failure_is_an_error(tmp_path):
    with MuseumServer() as server:
        server.route("/cma/artworks/", Reply(500, b"oops"))
        with pytest.raises(SourceError, match=r"cleveland: the search listing failed: .*HTTP 500"):
            ClevelandSource(collect_params("cleveland", server.url), client(tmp_path)).collect(
                RawStore(tmp_path / "raw"))


# -------------------------------------------------------------------------------------------- AIC
def aic_artwork(i: int, *, public: bool = True, image_id: str | None = "auto") -> dict:
    return {"id": i, "title": f"Plum blossom {i}", "date_start": 1920, "date_end": 1925,
            "date_display": "1920s", "place_of_origin": "China", "is_public_domain": public,
            "artwork_type_title": "Painting", "classification_title": "hanging scroll",
            "department_title": "Arts of Asia", "style_title": None,
            "image_id": f"0000000{i}-aaaa-bbbb-cccc-dddddddddddd" if image_id == "auto" else image_id}


def test_aic_search_identifies_itself_and_builds_iiif_urls(tmp_path):
    artworks = [aic_artwork(1), aic_artwork(2, public=False), aic_artwork(3, image_id=None), aic_artwork(4),
                aic_artwork(5)]

    def listing(seen):
        page, limit = int(seen.query["page"][0]), int(seen.query["limit"][0])
        return Reply.json({
            "pagination": {"total": len(artworks), "limit": limit, "offset": (page - 1) * limit,
                           "total_pages": -(-len(artworks) // limit), "current_page": page},
            "data": artworks[(page - 1) * limit:page * limit],
            # the IIIF base is the response's (here the local server), not collect.museum.aic_image_url
            "config": {"iiif_url": f"{base}/iiif", "website_url": "http://www.artic.edu"}})

    sleep = RecordingSleep()
    with MuseumServer() as server:
        base = server.url
        server.route("/aic/artworks/search", listing)
        iiif = lambda i: f"/iiif/0000000{i}-aaaa-bbbb-cccc-dddddddddddd/full/843,/0/default.jpg"  # noqa: E731
        server.route(iiif(1), Reply.image(noisy_jpeg(seed=1)))
        server.route(iiif(4), Reply(503, b"busy"), Reply.image(noisy_jpeg(seed=4)))
        server.route(iiif(5), Reply.image(HTML_ERROR, "text/html"))
        collect = collect_params("aic", server.url, aic_image_url="https://unused.example/iiif/2")
        http = make_client(AicSource, collect, str(tmp_path / "cache"), rate_per_s=1000.0, sleep=sleep)
        store = RawStore(tmp_path / "raw")
        stats = AicSource(collect, http, page_size=2).collect(store)
        searches = [s.query for s in server.requests if s.path == "/aic/artworks/search"]
        assert all(s.headers.get("AIC-User-Agent") == UA and s.headers.get("User-Agent") == UA
                   for s in server.requests)
    assert [q["page"] for q in searches] == [["1"], ["2"], ["3"]]
    assert searches[0]["query[term][is_public_domain]"] == ["true"]
    assert searches[0]["fields"] == ["id,title,image_id,date_start,date_end,date_display,place_of_origin,"
                                     "is_public_domain,artwork_type_title,classification_title,"
                                     "department_title,style_title"]
    assert sorted(store.records) == ["aic-1", "aic-4"] and stats.skipped_not_public_domain == 1
    assert {k: q.reason.split(":")[0] for k, q in store.quarantined.items()} == {
        "aic-3": "no_image", "aic-5": "not_an_image"}
    rec = store.records["aic-4"]
    assert rec.url == f"{base}{iiif(4)}" and rec.object_url == "https://www.artic.edu/artworks/4"
    assert rec.metadata["url_warnings"] == [f"image URL {rec.url!r}: scheme 'http' is not https; host "
                                            "'127.0.0.1' is not one of ['www.artic.edu', 'lakeimagesweb.artic.edu']"]
    assert rec.period == "modern" and rec.date == "1920s" and rec.metadata["place_of_origin"] == "China"
    assert sleep.backoffs() == [collect.museum.backoff_s]


def test_quarantine_table_of_an_empty_run_has_columns(tmp_path):
    RawStore(tmp_path / "raw").close()
    table = quarantine_table(tmp_path / "raw")
    assert list(table.columns) == ["item_id", "source", "kind", "reason", "file", "sha256"] and table.empty
    assert (tmp_path / "raw" / "quarantine.jsonl").read_text() == ""
    assert (tmp_path / "raw" / "not_collected.jsonl").read_text() == ""
    table = not_collected_table(tmp_path / "raw")
    assert list(table.columns) == ["item_id", "source", "kind", "reason", "object_url"] and table.empty
