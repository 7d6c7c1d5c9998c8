"""config/fit.toml: weights, normalisation bounds, tier cut-offs and red flags of the fit score."""

from __future__ import annotations

import hashlib
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.config import ConfigError, config_file
from connectors.web.phrases import find_phrase, fold_with_map

CS = ("skills", "cultures", "aims", "risk")
C_LABELS = {
    "skills": "complementary skills",
    "cultures": "cooperative cultures",
    "aims": "compatible aims",
    "risk": "commensurate risk",
}


@dataclass(frozen=True)
class Feature:
    """One scored input. Numeric features map `low`..`high` to 0..100 (clipped; log10 first
    when scale = "log10"); categorical ones look their value up in `scores`."""

    c: str
    name: str
    weight: float
    label: str
    about: str
    low: float | None = None
    high: float | None = None
    scale: str = "linear"
    scores: dict[str, float] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    def normalise(self, raw: float) -> float:
        if self.low is None or self.high is None:
            raise ConfigError(f"[features.{self.c}.{self.name}] needs low and high")
        low, high, value = self.low, self.high, float(raw)
        if self.scale == "log10":
            if value <= 0:
                return 0.0
            low, high, value = math.log10(low), math.log10(high), math.log10(value)
        share = (value - low) / (high - low)
        return round(100.0 * min(1.0, max(0.0, share)), 2)

    def category_score(self, key: str) -> float | None:
        value = self.scores.get(key)
        return None if value is None else float(value)

    def bounds_text(self) -> str:
        if self.scores:
            return ", ".join(f"{k} → {v:g}" for k, v in self.scores.items())
        scale = "log10 " if self.scale == "log10" else ""
        return f"{scale}{self.low:g} → 0, {self.high:g} → 100"


@dataclass(frozen=True)
class Tier:
    name: str
    min_score: float


@dataclass(frozen=True)
class RedFlag:
    name: str
    tier: str
    label: str


@dataclass(frozen=True)
class NameRule:
    """[[skills.names]]: words that, in a GLEIF legal name, name a line of business."""

    words: tuple[str, ...]
    capabilities: tuple[str, ...]
    note: str

    def first_word_in(self, name: str) -> str | None:
        """The first of `words` found in `name` (as written there), else None."""
        folded = fold_with_map(name)
        for word in self.words:
            hits = find_phrase(name, word, folded)
            if hits:
                return hits[0].matched_text
        return None


@dataclass(frozen=True)
class FitConfig:
    c_weights: dict[str, float]
    coverage_minimum: float
    every_c: bool
    insufficient_tier: str
    tiers: tuple[Tier, ...]
    red_flags: dict[str, RedFlag]
    features: dict[str, dict[str, Feature]]
    sic: tuple[tuple[int, int, tuple[str, ...]], ...]
    name_rules: tuple[NameRule, ...]
    size_classes: tuple[str, ...]
    size_class_of: dict[str, str]
    regions: dict[str, frozenset[str]]
    digest: str

    def feature(self, c: str, name: str) -> Feature:
        try:
            return self.features[c][name]
        except KeyError as exc:
            raise ConfigError(
                f"config/fit.toml has no [features.{c}.{name}]: every feature stays listed; "
                "set its weight to 0 to switch it off"
            ) from exc

    def tier_for(self, score: float) -> str:
        for tier in self.tiers:
            if score >= tier.min_score:
                return tier.name
        return self.tiers[-1].name

    def sic_capabilities(self, sic: int) -> tuple[str, ...]:
        """Narrowest configured SIC range containing `sic` wins."""
        matches = [(hi - lo, caps) for lo, hi, caps in self.sic if lo <= sic <= hi]
        return min(matches)[1] if matches else ()

    def named_capabilities(self, name: str) -> list[tuple[str, str, NameRule]]:
        """(capability, the word as written in `name`, its rule) per [[skills.names]] match."""
        found: list[tuple[str, str, NameRule]] = []
        for rule in self.name_rules:
            word = rule.first_word_in(name)
            if word is not None:
                found.extend((cap, word, rule) for cap in rule.capabilities)
        return found

    def summary(self) -> dict[str, Any]:
        """What every output shows next to the scores."""
        return {
            "c_weights": self.c_weights,
            "coverage_minimum": self.coverage_minimum,
            "every_c_needs_an_input": self.every_c,
            "tiers": [{"name": t.name, "min_score": t.min_score} for t in self.tiers],
            "qualifiers": {
                **{f.name: f.tier for f in self.red_flags.values()},
                "coverage below minimum": self.insufficient_tier,
            },
            "features": {
                c: {
                    f.name: {"weight": f.weight, "bounds": f.bounds_text(), "label": f.label}
                    for f in feats.values()
                }
                for c, feats in self.features.items()
            },
            "config_digest": self.digest,
        }


def _feature(c: str, name: str, body: dict[str, Any]) -> Feature:
    try:
        weight = float(body["weight"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"[features.{c}.{name}] needs a numeric weight") from exc
    if weight < 0:
        raise ConfigError(f"[features.{c}.{name}] weight must not be negative")
    known = {"weight", "label", "about", "low", "high", "scale", "scores"}
    low, high = body.get("low"), body.get("high")
    scores = {str(k): float(v) for k, v in body.get("scores", {}).items()}
    if not scores and (low is None or high is None or float(low) == float(high)):
        raise ConfigError(f"[features.{c}.{name}] needs `scores` or two different low/high")
    scale = str(body.get("scale", "linear"))
    if scale not in ("linear", "log10"):
        raise ConfigError(f"[features.{c}.{name}] scale must be linear or log10")
    if scale == "log10" and (low is None or high is None or float(low) <= 0 or float(high) <= 0):
        raise ConfigError(f"[features.{c}.{name}] log10 bounds must be positive")
    return Feature(
        c=c,
        name=name,
        weight=weight,
        label=str(body.get("label", name)),
        about=str(body.get("about", "")),
        low=None if low is None else float(low),
        high=None if high is None else float(high),
        scale=scale,
        scores=scores,
        options={k: v for k, v in body.items() if k not in known},
    )


def _name_rule(path: Path, body: dict[str, Any]) -> NameRule:
    words = tuple(str(w) for w in body.get("words", []) if str(w).strip())
    capabilities = tuple(str(c) for c in body.get("capabilities", []))
    if not words or not capabilities:
        raise ConfigError(f"{path}: every [[skills.names]] needs `words` and `capabilities`")
    return NameRule(words, capabilities, str(body.get("note", "")))


def load_fit_config(path: Path | None = None) -> FitConfig:
    path = path or config_file("fit.toml")
    try:
        text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read fit configuration {path}: {exc}") from exc
    c_weights = {c: float(raw.get("cs", {}).get(c, 0.0)) for c in CS}
    if sum(c_weights.values()) <= 0:
        raise ConfigError(f"{path}: [cs] weights must add up to more than 0")
    features = {
        c: {
            name: _feature(c, name, body)
            for name, body in raw.get("features", {}).get(c, {}).items()
        }
        for c in CS
    }
    for c in CS:
        if c_weights[c] > 0 and not sum(f.weight for f in features[c].values()):
            raise ConfigError(f"{path}: C {c!r} has weight but no weighted [features.{c}.*]")
    tiers = tuple(
        Tier(str(t["name"]), float(t["min_score"]))
        for t in sorted(raw.get("tiers", []), key=lambda t: -float(t["min_score"]))
    )
    if not tiers:
        raise ConfigError(f"{path}: no [[tiers]]")
    aims = raw.get("aims", {})
    classes = dict(aims.get("size_classes", {}))
    order = tuple(str(x) for x in classes.pop("order", []))
    return FitConfig(
        c_weights=c_weights,
        coverage_minimum=float(raw.get("coverage", {}).get("minimum", 0.0)),
        every_c=bool(raw.get("coverage", {}).get("every_c", False)),
        insufficient_tier=str(
            raw.get("coverage", {}).get("insufficient_tier", "insufficient data")
        ),
        tiers=tiers,
        red_flags={
            name: RedFlag(name, str(body["tier"]), str(body.get("label", name)))
            for name, body in raw.get("red_flags", {}).items()
        },
        features=features,
        sic=tuple(
            (int(r["from"]), int(r["to"]), tuple(str(x) for x in r["capabilities"]))
            for r in raw.get("skills", {}).get("sic", [])
        ),
        name_rules=tuple(_name_rule(path, r) for r in raw.get("skills", {}).get("names", [])),
        size_classes=order,
        size_class_of={str(k): str(v) for k, v in classes.items()},
        regions={
            str(name): frozenset(str(c).upper() for c in codes)
            for name, codes in aims.get("regions", {}).items()
        },
        digest=hashlib.sha256(text.encode("utf-8")).hexdigest()[:12],
    )
