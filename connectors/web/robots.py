"""robots.txt per RFC 9309: groups by product token, longest match, Allow wins ties, * and $.

``RobotsRules.parse`` is pure. ``RobotsCache`` holds one verdict per origin for at most 24 h;
the fetching is done by the caller (the fetcher) through a function it hands in, so robots.txt
requests pass through the same guard, rate limit and size cap as pages.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit

MAX_PARSE_BYTES = 512 * 1024  # RFC 9309 asks crawlers to parse at least 500 KiB
MAX_AGE_SECONDS = 24 * 3600
_SAFE = "/?=&;:@!$,'()*+~-._[]"
_LINE = re.compile(r"^\s*([A-Za-z-]+)\s*:\s*(.*?)\s*$")


def _normalise(path: str) -> str:
    """Percent-encoding made canonical so '/a%3cb' and '/a<b' compare equal (RFC 9309 2.2.2)."""
    return quote(unquote(path, errors="surrogateescape"), safe=_SAFE, errors="surrogateescape")


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    regex = ".*".join(re.escape(part) for part in _normalise(body).split("*"))
    return re.compile(regex + ("$" if anchored else ""))


@dataclass(frozen=True)
class Rule:
    allow: bool
    pattern: str
    regex: re.Pattern[str] = field(compare=False)

    def matches(self, path: str) -> bool:
        return self.regex.match(path) is not None


def _rule(allow: bool, pattern: str) -> Rule:
    return Rule(allow, pattern, _pattern_regex(pattern))


@dataclass(frozen=True)
class RobotsRules:
    """The rules that apply to one product token, or a blanket verdict."""

    rules: tuple[Rule, ...] = ()
    default_allow: bool = True
    note: str = ""

    @classmethod
    def allow_all(cls, note: str = "") -> RobotsRules:
        return cls((), True, note)

    @classmethod
    def disallow_all(cls, note: str = "") -> RobotsRules:
        return cls((), False, note)

    @classmethod
    def parse(cls, text: str, product_token: str) -> RobotsRules:
        """Rules from robots.txt text for product_token (case-insensitive), else the '*' group."""
        token = product_token.lower()
        mine: list[Rule] = []
        star: list[Rule] = []
        matched_mine = matched_star = False
        agents: list[str] = []
        in_rules = False
        for raw in text[:MAX_PARSE_BYTES].splitlines():
            line = _LINE.match(raw.split("#", 1)[0])
            if not line:
                continue
            key, value = line.group(1).lower(), line.group(2)
            if key == "user-agent":
                if in_rules:
                    agents, in_rules = [], False
                agents.append(value.split("/")[0].strip().lower())
                continue
            if key not in {"allow", "disallow"} or not agents:
                continue
            in_rules = True
            matched_mine = matched_mine or token in agents
            matched_star = matched_star or "*" in agents
            if not value:
                continue  # an empty Disallow allows everything: no rule
            rule = _rule(key == "allow", value)
            if token in agents:
                mine.append(rule)
            if "*" in agents:
                star.append(rule)
        if matched_mine:
            return cls(tuple(mine), True, f"group for {product_token}")
        return cls(tuple(star), True, "group *" if matched_star else "no matching group")

    def allowed(self, url: str) -> bool:
        """Longest matching pattern decides; Allow wins a tie; /robots.txt is always allowed."""
        parts = urlsplit(url)
        path = _normalise((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
        if path == "/robots.txt":
            return True
        if not self.rules:
            return self.default_allow
        best: Rule | None = None
        for rule in self.rules:
            if not rule.matches(path):
                continue
            if (
                best is None
                or len(rule.pattern) > len(best.pattern)
                or (len(rule.pattern) == len(best.pattern) and rule.allow)
            ):
                best = rule
        return True if best is None else best.allow


RobotsLoader = Callable[[str], RobotsRules]


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


class RobotsCache:
    """Rules per origin, reloaded after max_age seconds (at most 24 h per RFC 9309)."""

    def __init__(
        self,
        max_age_seconds: float = MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_age = min(max_age_seconds, MAX_AGE_SECONDS)
        self.clock = clock
        self._entries: dict[str, tuple[float, RobotsRules]] = {}

    def rules_for(self, url: str, load: RobotsLoader) -> RobotsRules:
        origin = origin_of(url)
        now = self.clock()
        cached = self._entries.get(origin)
        if cached and now - cached[0] < self.max_age:
            return cached[1]
        rules = load(origin)
        self._entries[origin] = (now, rules)
        return rules
