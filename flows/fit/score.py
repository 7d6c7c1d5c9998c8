"""Pure aggregation of evidence rows into the four sub-scores, overall score, coverage and tier.

An evidence row is a dict with at least c, feature, label, status ('used', 'missing' or
'red_flag'), score (0..100 for used rows) and weight. Missing inputs are never imputed: a
sub-score is the weighted mean of the used rows of its C, and coverage says how much of the
configured weight that was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flows.fit.config import C_LABELS, CS, FitConfig


@dataclass
class FitResult:
    sub_scores: dict[str, float | None]
    coverages: dict[str, float]
    overall: float | None
    coverage: float
    tier: str
    tier_reason: str
    red_flags: list[str] = field(default_factory=list)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _sub(rows: Sequence[dict[str, Any]], c: str) -> tuple[float | None, float]:
    """One C's weighted score (None: no input used) and the weight of its inputs used."""
    used = [r for r in rows if r["c"] == c and r["status"] == "used" and r["weight"] > 0]
    weight = sum(float(r["weight"]) for r in used)
    score = (
        _round(sum(float(r["weight"]) * float(r["score"]) for r in used) / weight)
        if weight > 0
        else None
    )
    return score, weight


def _sub_scores(
    rows: Sequence[dict[str, Any]], config: FitConfig
) -> tuple[dict[str, float | None], dict[str, float]]:
    """Each C's weighted score and its coverage."""
    subs: dict[str, float | None] = {}
    coverages: dict[str, float] = {}
    for c in CS:
        configured = sum(f.weight for f in config.features[c].values())
        subs[c], weight = _sub(rows, c)
        coverages[c] = round(weight / configured, 4) if configured > 0 else 0.0
    return subs, coverages


def _overall(subs: dict[str, float | None], config: FitConfig) -> float | None:
    scored = [c for c in CS if subs[c] is not None and config.c_weights[c] > 0]
    scored_weight = sum(config.c_weights[c] for c in scored)
    return (
        _round(sum(config.c_weights[c] * float(subs[c] or 0.0) for c in scored) / scored_weight)
        if scored_weight > 0
        else None
    )


def aggregate(rows: Sequence[dict[str, Any]], config: FitConfig) -> FitResult:
    subs, coverages = _sub_scores(rows, config)
    total = sum(config.c_weights.values())
    overall = _overall(subs, config)
    coverage = round(sum(config.c_weights[c] * coverages[c] for c in CS) / total, 4)
    flags = [r["feature"] for r in rows if r["status"] == "red_flag"]
    blind = [c for c in CS if config.c_weights[c] > 0 and coverages[c] == 0]
    tier, reason = _tier(overall, coverage, flags, blind, config)
    return FitResult(subs, coverages, overall, coverage, tier, reason, flags)


def _tier(
    overall: float | None,
    coverage: float,
    flags: list[str],
    blind: list[str],
    config: FitConfig,
) -> tuple[str, str]:
    for name, flag in config.red_flags.items():  # configured order: most severe first
        if name in flags:
            return flag.tier, f"red flag: {flag.label}"
    if overall is None or coverage < config.coverage_minimum:
        return (
            config.insufficient_tier,
            f"coverage {coverage:.0%} is below the minimum {config.coverage_minimum:.0%}",
        )
    if config.every_c and blind:
        names = ", ".join(C_LABELS[c] for c in blind)
        return config.insufficient_tier, f"no input at all for {names}"
    tier = config.tier_for(overall)
    cutoff = next(t.min_score for t in config.tiers if t.name == tier)
    return tier, f"overall {overall:.1f} ≥ {cutoff:g} (coverage {coverage:.0%})"


def overall_if(
    rows: Sequence[dict[str, Any]],
    index: int,
    score: float,
    config: FitConfig,
    subs: dict[str, float | None],
) -> float | None:
    """The overall score if row `index` were used with `score` (every other row unchanged);
    `subs` are the rows' sub-scores (only the row's own C is computed again)."""
    changed = list(rows)
    changed[index] = {**rows[index], "status": "used", "score": score}
    c = rows[index]["c"]
    return _overall({**subs, c: _sub(changed, c)[0]}, config)


def with_swings(rows: list[dict[str, Any]], config: FitConfig) -> list[dict[str, Any]]:
    """Adds overall_if_low / overall_if_high (this input at 0 / at 100) to scored rows."""
    subs = _sub_scores(rows, config)[0]
    out = []
    for i, row in enumerate(rows):
        scored = row["status"] in ("used", "missing") and row["weight"] > 0
        out.append(
            {
                **row,
                "overall_if_low": overall_if(rows, i, 0.0, config, subs) if scored else None,
                "overall_if_high": overall_if(rows, i, 100.0, config, subs) if scored else None,
            }
        )
    return out


def what_would_change(
    rows: Sequence[dict[str, Any]], result: FitResult, config: FitConfig, limit: int = 5
) -> list[str]:
    """Red flags first, then the missing inputs and weak inputs that move the score most."""
    items: list[tuple[float, str]] = []
    if result.red_flags:
        cleared = aggregate([r for r in rows if r["status"] != "red_flag"], config)
        for name in result.red_flags:
            flag = config.red_flags[name]
            items.append(
                (
                    1000.0,
                    f"red flag — {flag.label}; without it the tier would be '{cleared.tier}'",
                )
            )
    for row in rows:
        low, high = row.get("overall_if_low"), row.get("overall_if_high")
        if low is None or high is None:
            continue
        if row["status"] == "missing":
            items.append(
                (
                    high - low,
                    f"unknown {row['label']} ({row['c']}): once found, overall between "
                    f"{low:.1f} and {high:.1f}",
                )
            )
        elif row["status"] == "used" and result.overall is not None and float(row["score"]) < 50:
            gain = high - result.overall
            if gain > 0.5:
                items.append(
                    (
                        gain,
                        f"weak {row['label']} ({row['c']}, scores {float(row['score']):.0f}): "
                        f"at best it would lift the overall to {high:.1f}",
                    )
                )
    items.sort(key=lambda item: -item[0])
    return [text for _, text in items[:limit]]
