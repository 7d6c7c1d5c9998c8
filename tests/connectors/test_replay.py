import requests

from connectors.replay import PatternRoute, ReplayServer, Route


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
