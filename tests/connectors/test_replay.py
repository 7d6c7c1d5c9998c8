import json

import requests

from connectors.replay import PatternRoute, ReplayServer, Route
from connectors.replay_faults import Fault, FaultyReplayServer
from flows.offline import SNAPSHOT_DIR


def test_pattern_route_renders_from_groups_and_falls_through_for_unknown_ids() -> None:
    known = {"7": b"seven"}
    routes = [
        PatternRoute(path=r"/items/(?P<id>\d+)", render=lambda g: known.get(g["id"])),
        Route(path="/items/8", body=b"exact"),
    ]
    with ReplayServer(routes=routes) as server:

        def get(path: str) -> requests.Response:
            return requests.get(server.base_url + path, timeout=10)

        assert get("/items/7").content == b"seven"
        assert get("/items/8").content == b"exact"  # render said None: the next route answers
        assert get("/items/9").status_code == 404
        assert get("/items/7/more").status_code == 404  # the pattern must match the whole path
        assert [r.hits for r in routes] == [1, 1]


def test_collection_route_answers_a_filter_from_the_recorded_records() -> None:
    """GLEIF's /lei-records?filter[lei]=A,B: a JSON:API page of the recorded single records,
    paginated, an unknown LEI left out as the real API does."""
    shell, nfa, unknown = "21380068P1DRHMJ8KU70", "335800CCCPHKUOXPC332", "54930043XZGB27CTOV49"
    with ReplayServer(SNAPSHOT_DIR) as server:
        url = server.base_url + "/gleif/lei-records"
        leis = f"{shell},{nfa},{unknown}"
        first = requests.get(url, params={"filter[lei]": leis, "page[size]": "1"}, timeout=10)
        second = requests.get(first.json()["links"]["next"], timeout=10)
        whole = requests.get(url, params={"filter[lei]": leis, "page[size]": "200"}, timeout=10)
    recorded = json.loads((SNAPSHOT_DIR / f"gleif/single_lei_record_{shell}.json").read_bytes())
    page = first.json()
    assert first.status_code == 200 and page["data"] == [recorded["data"]]
    assert page["meta"]["goldenCopy"] == recorded["meta"]["goldenCopy"]
    assert page["meta"]["pagination"] == {
        "currentPage": 1, "perPage": 1, "from": 1, "to": 1, "total": 2, "lastPage": 2,
    }  # fmt: skip
    assert [r["id"] for r in second.json()["data"]] == [nfa]
    assert "next" not in second.json()["links"]
    assert [r["id"] for r in whole.json()["data"]] == [shell, nfa]


def test_rate_limits_answer_429_with_retry_after_per_prefix_and_are_off_by_default() -> None:
    routes = [Route(path="/a/x", body=b"a"), Route(path="/b/x", body=b"b")]
    with ReplayServer(routes=routes, rate_limits={"/a/": 2.0}) as server:
        a = [requests.get(server.base_url + "/a/x", timeout=10) for _ in range(6)]
        b = [requests.get(server.base_url + "/b/x", timeout=10) for _ in range(6)]
    refused = [r for r in a if r.status_code == 429]
    assert refused and all(int(r.headers["Retry-After"]) >= 1 for r in refused)
    assert a[0].status_code == 200 and server.limited == {"/a/": len(refused)}
    assert all(r.status_code == 200 for r in b)  # another publisher's prefix: no limit
    with ReplayServer(routes=routes) as unlimited:
        assert all(
            requests.get(unlimited.base_url + "/a/x", timeout=10).status_code == 200
            for _ in range(6)
        )


def test_a_charset_fault_changes_only_the_encoding_and_its_label() -> None:
    """The recorded answer in UTF-16 labelled ISO-8859-1, its other headers as recorded: an
    answer the snapshot lacks stays marked unrecorded (the refresh must not take it for the
    publisher's own 404, which it would hold as a final answer)."""
    recorded = (SNAPSHOT_DIR / "gleif/direct-children_21380068P1DRHMJ8KU70.json").read_bytes()
    children = "/gleif/lei-records/21380068P1DRHMJ8KU70/direct-children"
    with FaultyReplayServer(SNAPSHOT_DIR) as server:
        server.inject(Fault("wrong_charset", children))
        page = requests.get(server.base_url + children, params={"page[number]": "1"}, timeout=10)
        beyond = requests.get(server.base_url + children, params={"page[number]": "2"}, timeout=10)
    assert page.status_code == 200 and page.content.decode("utf-16") == recorded.decode()
    assert page.headers["Content-Type"] == "application/vnd.api+json; charset=iso-8859-1"
    assert page.headers["ETag"]  # as the recorded answer has one
    assert beyond.status_code == 404 and beyond.headers["X-Replay-Unrecorded"] == "1"
    assert json.loads(beyond.content.decode("utf-16"))["errors"][0]["status"] == "404"
