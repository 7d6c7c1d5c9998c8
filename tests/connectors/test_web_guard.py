"""AddressGuard and robots.txt rules. Pure checks: the resolver is a stub, nothing connects."""

from __future__ import annotations

import pytest

from connectors.web.guard import AddressGuard, AllowList, BlockedAddress, ResolutionFailed
from connectors.web.robots import RobotsCache, RobotsRules

STUB_DNS = {
    "metadata.evil.test": ["169.254.169.254"],
    "intranet.evil.test": ["10.0.0.1"],
    "ula.evil.test": ["fd00::1"],
    "mixed.evil.test": ["93.184.216.34", "192.168.1.10"],
    "public.example": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
    "partner.test": ["127.0.0.1"],
}


class StubResolver:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, host: str) -> list[str]:
        self.calls.append(host)
        if host not in STUB_DNS:
            raise ResolutionFailed(f"stub has no answer for {host}")
        return STUB_DNS[host]


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00::1]/",
        "http://[fe80::1]/",
        "http://[::1]:8080/",
        "http://[::ffff:10.0.0.1]/",
        "http://127.0.0.2/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://240.0.0.1/",
        "http://100.64.0.1/",
        "http://metadata.evil.test/",
        "http://intranet.evil.test/",
        "http://ula.evil.test/",
        "http://mixed.evil.test/",  # one private answer is enough to refuse
    ],
)
def test_guard_refuses_non_public_targets(url: str) -> None:
    guard = AddressGuard(AllowList.parse("127.0.0.1"), StubResolver())
    with pytest.raises(BlockedAddress):
        guard.check(url)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://public.example/x", "gopher://a/", "//x"]
)
def test_guard_refuses_non_http_schemes(url: str) -> None:
    with pytest.raises(BlockedAddress, match="scheme"):
        AddressGuard(resolver=StubResolver()).check(url)


def test_guard_reason_names_the_address_class() -> None:
    guard = AddressGuard(resolver=StubResolver())
    with pytest.raises(BlockedAddress, match="169.254.169.254, a link-local"):
        guard.check("http://metadata.evil.test/")


def test_guard_allows_public_hosts_and_returns_vetted_addresses() -> None:
    resolver = StubResolver()
    target = AddressGuard(resolver=resolver).check("https://public.example/about")
    assert target.addresses[0] == "93.184.216.34"
    assert (target.host, target.port) == ("public.example", 443)
    assert resolver.calls == ["public.example"]


def test_literal_ip_is_not_sent_to_the_resolver() -> None:
    resolver = StubResolver()
    with pytest.raises(BlockedAddress):
        AddressGuard(resolver=resolver).check("http://10.0.0.1/")
    assert resolver.calls == []


def test_allow_list_takes_cidrs_and_host_names() -> None:
    allow = AllowList.parse(" 127.0.0.1 , 10.0.0.0/8, intranet.evil.test ,")
    guard = AddressGuard(allow, StubResolver())
    assert guard.check("http://127.0.0.1:5000/").addresses == ("127.0.0.1",)
    assert guard.check("http://partner.test/").addresses == ("127.0.0.1",)
    assert guard.check("http://10.9.8.7/").addresses == ("10.9.8.7",)
    assert guard.check("http://intranet.evil.test/").addresses == ("10.0.0.1",)
    with pytest.raises(BlockedAddress):
        guard.check("http://127.0.0.2/")
    with pytest.raises(BlockedAddress):
        guard.check("http://metadata.evil.test/")


def test_unresolvable_host_is_an_error_not_a_pass() -> None:
    with pytest.raises(ResolutionFailed):
        AddressGuard(resolver=StubResolver()).check("http://nowhere.test/")


# -- robots.txt (RFC 9309) -----------------------------------------------------------------

ROBOTS = """
# comment
User-agent: *
Disallow: /private
Allow: /private/public
Disallow: /*.pdf$
Disallow: /search?q=*&page=

User-Agent: PartnerDD
User-agent: otherbot
Disallow: /no-partnerdd/
Allow: /no-partnerdd/ok
Disallow: /tie
Allow: /tie
"""


def test_group_for_our_product_token_replaces_the_star_group() -> None:
    rules = RobotsRules.parse(ROBOTS, "partnerdd")
    assert not rules.allowed("https://x.test/no-partnerdd/a")
    assert rules.allowed("https://x.test/no-partnerdd/ok/b")  # longer Allow wins
    assert rules.allowed("https://x.test/private")  # the * group does not apply to us
    assert rules.allowed("https://x.test/tie")  # equal length: Allow wins


def test_star_group_longest_match_wildcards_and_anchor() -> None:
    rules = RobotsRules.parse(ROBOTS, "somebot")
    assert not rules.allowed("https://x.test/private/x")
    assert not rules.allowed("https://x.test/privateer")
    assert rules.allowed("https://x.test/private/public/y")
    assert not rules.allowed("https://x.test/files/report.pdf")
    assert rules.allowed("https://x.test/files/report.pdf?download=1")  # $ anchors the end
    assert not rules.allowed("https://x.test/search?q=abc&page=2")
    assert rules.allowed("https://x.test/search?q=abc")
    assert rules.allowed("https://x.test/robots.txt")


def test_percent_encoding_is_compared_canonically() -> None:
    rules = RobotsRules.parse("User-agent: *\nDisallow: /%7Ejoe/\nDisallow: /über\n", "bot")
    assert not rules.allowed("https://x.test/~joe/index.html")
    assert not rules.allowed("https://x.test/%C3%BCber/uns")


def test_empty_disallow_and_no_group_allow_everything() -> None:
    assert RobotsRules.parse("User-agent: *\nDisallow:\n", "bot").allowed("https://x.test/a")
    assert RobotsRules.parse("", "bot").allowed("https://x.test/a")
    assert RobotsRules.parse("User-agent: otherbot\nDisallow: /\n", "bot").allowed(
        "https://x.test/"
    )


def test_robots_cache_reloads_after_max_age() -> None:
    now = [0.0]
    cache = RobotsCache(max_age_seconds=10 * 24 * 3600, clock=lambda: now[0])  # capped to 24 h
    loads: list[str] = []

    def load(url: str) -> RobotsRules:
        loads.append(url)
        return RobotsRules.allow_all()

    cache.rules_for("https://x.test/a", load)
    cache.rules_for("https://x.test/b", load)
    cache.rules_for("https://X.test:443/c", load)  # same origin
    assert len(loads) == 1
    now[0] = 24 * 3600 + 1
    cache.rules_for("https://x.test/a", load)
    assert len(loads) == 2
    cache.rules_for("http://x.test/a", load)  # another origin
    assert len(loads) == 3
