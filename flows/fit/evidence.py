"""Evidence rows for the fit score: one per partner and configured feature (used or missing)
plus one per red flag, each citing the table, key, URL and fetch time it came from.

Reads the already-built marts and staging tables; nothing here fetches or guesses. A feature
without data is a 'missing' row with the reason, so it lowers coverage and is listed.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import duckdb

from connectors.config import ConfigError
from connectors.countries import resolve
from flows.db import records
from flows.fit.config import FitConfig
from flows.home import HomeCompany

EVIDENCE_COLUMNS = [
    "partner_id",
    "evidence_key",
    "c",
    "feature",
    "label",
    "status",
    "raw_value",
    "raw_number",
    "score",
    "weight",
    "bounds",
    "source_table",
    "source_key",
    "source_url",
    "fetched_at",
    "explanation",
]


def _by_partner(rows: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[str(row["partner_id"])].append(row)
    return grouped


def _known(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


_PARTNERS = """
    select
        p.partner_id, p.name, p.country_iso3, pr.lei, pr.cik, pr.web_status, pr.site_lang,
        pr.employees_site, pr.sanctions_hit_count, pr.adverse_articles, pr.news_count_total,
        r.legal_name, r.legal_name_language, r.entity_category, r.entity_status,
        r.registration_status, r.hq_address_country,
        r.source_url as gleif_url, r.fetched_at as gleif_at,
        s.sic, s.sic_description, s.filer_category, s.country as sec_country,
        s.source_url as sec_url, s.fetched_at as sec_at,
        w.home_url, w.crawled_at
    from staging.stg_registry__partners as p
    left join marts.partner_profile as pr on p.partner_id = pr.partner_id
    left join staging.stg_gleif__lei_records as r on pr.lei = r.lei
    left join staging.stg_sec__companies as s on pr.cik = s.cik
    left join marts.partner_web_profile as w on p.partner_id = w.partner_id
    where {only}
    order by p.partner_id
"""


@dataclass
class Facts:
    """Everything the features read, loaded once per build."""

    partners: list[dict[str, Any]]
    capabilities: dict[str, list[dict[str, Any]]]
    other_names: dict[str, list[dict[str, Any]]]
    financials: dict[str, list[dict[str, Any]]]
    ownership: dict[str, list[dict[str, Any]]]
    hits: dict[str, list[dict[str, Any]]]
    adverse: dict[str, list[dict[str, Any]]]
    country: dict[tuple[str, str, str], dict[str, Any]]
    distance: dict[tuple[str, str], dict[str, Any]]
    sanctions_lists: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection, keys: str | None = None) -> Facts:
        """Facts of every partner, or of those whose partner_id is in the temp table `keys`."""

        def only(column: str) -> str:
            return "true" if keys is None else f"{column} in (select key from {keys})"  # noqa: S608

        seen: set[str] = set()
        partners = []
        for row in records(
            con, _PARTNERS.format(only=only("p.partner_id"))
        ):  # one row per partner even if a join repeats
            if row["partner_id"] not in seen:
                seen.add(row["partner_id"])
                partners.append(row)
        return cls(
            partners=partners,
            capabilities=_by_partner(
                records(
                    con,
                    "select partner_id, capability, min(page_url) as page_url, "  # noqa: S608 (our SQL)
                    "max(fetched_at) as fetched_at from marts.partner_capabilities "
                    f"where {only('partner_id')} "
                    "group by partner_id, capability order by partner_id, capability",
                )
            ),
            other_names=_by_partner(
                records(
                    con,
                    "select pr.partner_id, o.name, o.name_type, o.language, o.source_url, "  # noqa: S608 (our SQL)
                    "o.fetched_at from staging.stg_gleif__other_names as o "
                    "inner join marts.partner_profile as pr on o.lei = pr.lei "
                    f"where {only('pr.partner_id')} order by pr.partner_id, o.name",
                )
            ),
            financials=_by_partner(
                records(
                    con,
                    "select partner_id, metric, fiscal_year, value, unit, financial_key, "  # noqa: S608 (our SQL)
                    "source_url, fetched_at from marts.partner_financials "
                    f"where metric in ('revenue', 'employees') and {only('partner_id')} "
                    "order by partner_id, metric, fiscal_year desc",
                )
            ),
            ownership=_by_partner(
                records(
                    con,
                    "select partner_id, relation, parent_lei, parent_name, exception_reason, "  # noqa: S608 (our SQL)
                    "child_name, child_country, ownership_key, source_url, fetched_at "
                    f"from marts.partner_ownership where {only('partner_id')} "
                    "order by partner_id, ownership_key",
                )
            ),
            hits=_by_partner(
                records(
                    con,
                    "select partner_id, hit_key, list, listed_name, matched_name, score, "  # noqa: S608 (our SQL)
                    "threshold, source_url from marts.partner_sanctions_hits "
                    f"where {only('partner_id')} order by partner_id, score desc, hit_key",
                )
            ),
            adverse=_by_partner(
                records(
                    con,
                    "select partner_id, url, category, max(fetched_at) as fetched_at "  # noqa: S608 (our SQL)
                    f"from marts.partner_adverse_media where {only('partner_id')} "
                    "group by partner_id, url, category "
                    "order by partner_id, url",
                )
            ),
            country={
                (r["iso3"], r["index_name"], r["dimension"]): r
                for r in records(
                    con,
                    "select iso3, index_name, dimension, year, value, source, source_url, "
                    "fetched_at from marts.country_profile",
                )
            },
            distance={
                (r["partner_iso3"], r["measure"]): r
                for r in records(
                    con,
                    "select home_iso3, partner_iso3, measure, value, dims_used, reason "
                    "from marts.country_distance",
                )
            },
            sanctions_lists=records(
                con,
                "select list_name, max(list_published) as list_published, count(*) as entries, "
                "any_value(source_url) as source_url, max(fetched_at) as fetched_at "
                "from staging.stg_sanctions__entries group by list_name order by list_name",
            ),
        )


def _number_text(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100_000 else f"{value:.4g}"


class Builder:
    """Collects the rows of one partner: `use` for an input with data, `miss` without."""

    def __init__(self, partner: dict[str, Any], config: FitConfig) -> None:
        self.partner = partner
        self.config = config
        self.rows: list[dict[str, Any]] = []

    def _row(self, c: str, name: str, **values: Any) -> dict[str, Any]:
        feature = self.config.features[c].get(name)
        row = dict.fromkeys(EVIDENCE_COLUMNS)
        row.update(
            partner_id=self.partner["partner_id"],
            evidence_key=f"{self.partner['partner_id']}:{c}:{name}",
            c=c,
            feature=name,
            label=feature.label if feature else name,
            weight=feature.weight if feature else 0.0,
            bounds=feature.bounds_text() if feature else None,
        )
        row.update(values)
        return row

    def use(
        self,
        c: str,
        name: str,
        *,
        raw: Any,
        score: float,
        explanation: str,
        table: str,
        key: str,
        url: str | None,
        at: Any,
    ) -> None:
        number = float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else None
        self.rows.append(
            self._row(
                c,
                name,
                status="used",
                raw_value=str(raw) if number is None else _number_text(number),
                raw_number=number,
                score=round(float(score), 2),
                source_table=table,
                source_key=key,
                source_url=url,
                fetched_at=at,
                explanation=explanation[:1].upper() + explanation[1:],
            )
        )

    def miss(self, c: str, name: str, reason: str) -> None:
        self.rows.append(self._row(c, name, status="missing", explanation=f"Unknown: {reason}."))

    def flag(
        self, name: str, *, explanation: str, table: str, key: str, url: str | None, at: Any
    ) -> None:
        flag = self.config.red_flags.get(name)
        if flag is None:
            return
        self.rows.append(
            {
                **self._row("risk", name, status="red_flag", raw_value=flag.tier),
                "evidence_key": f"{self.partner['partner_id']}:red_flag:{name}",
                "label": flag.label,
                "weight": 0.0,
                "bounds": None,
                "source_table": table,
                "source_key": key,
                "source_url": url,
                "fetched_at": at,
                "explanation": explanation,
            }
        )


Extractor = Callable[[Builder, Facts, HomeCompany, dict[str, Any]], None]


def _gleif(p: dict[str, Any]) -> dict[str, Any]:
    """Citation of the partner's GLEIF LEI record."""
    return {
        "table": "staging.stg_gleif__lei_records",
        "key": str(p["lei"]),
        "url": p["gleif_url"],
        "at": p["gleif_at"],
    }


def _sec(p: dict[str, Any]) -> dict[str, Any]:
    """Citation of the partner's SEC submissions record."""
    return {
        "table": "staging.stg_sec__companies",
        "key": p["cik"],
        "url": p["sec_url"],
        "at": p["sec_at"],
    }


def _country_name(iso3: str | None) -> str:
    return (resolve(iso3).name if iso3 else None) or str(iso3)


def _iso3(value: Any) -> str | None:
    return resolve(str(value)).iso3 if _known(value) and str(value).strip() else None


# ------------------------------------------------------------------ complementary skills
def _capabilities(b: Builder, facts: Facts) -> tuple[dict[str, list[str]], list[dict[str, Any]]]:
    """capability id -> where it was seen, and the source rows (site and SEC SIC)."""
    p = b.partner
    found: dict[str, list[str]] = defaultdict(list)
    sources: list[dict[str, Any]] = []
    for site in facts.capabilities.get(p["partner_id"], []):
        found[site["capability"]].append("website")
    if facts.capabilities.get(p["partner_id"]):
        first = facts.capabilities[p["partner_id"]][0]
        sources.append(
            {
                "table": "marts.partner_capabilities",
                "key": p["partner_id"],
                "url": first["page_url"],
                "at": first["fetched_at"],
            }
        )
    if _known(p["sic"]) and str(p["sic"]).strip().isdigit():
        for cap in b.config.sic_capabilities(int(str(p["sic"]).strip())):
            found[cap].append(f"SEC SIC {p['sic']}")
        sources.append(_sec(p))
    return dict(found), sources


def _source_fields(sources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "table": "; ".join(dict.fromkeys(s["table"] for s in sources)),
        "key": "; ".join(str(s["key"]) for s in sources),
        "url": sources[0]["url"],
        "at": max((s["at"] for s in sources if _known(s["at"])), default=None),
    }


def _seek_share(
    found: dict[str, list[str]], home: HomeCompany
) -> tuple[list[str], list[str], float]:
    """The capabilities we seek, those of them in `found`, and that share."""
    seek = list(home.capabilities_seek)
    met = sorted(c for c in found if c in seek)
    return seek, met, len(met) / len(seek) if seek else 0.0


def skills(b: Builder, facts: Facts, home: HomeCompany, ctx: dict[str, Any]) -> None:
    p = b.partner
    found, sources = _capabilities(b, facts)
    what = (
        f"SEC SIC {p['sic']} ({p['sic_description']})"
        if _known(p["sic"])
        else "no SEC industry code"
    )
    if not sources:
        site = (
            "the crawled website names no capability of config/capabilities.toml"
            if p["web_status"] == "ok"
            else f"the website was not crawled ({p['web_status'] or 'no website'})"
        )
        reason = f"no capability evidence: {site} and the partner has no SEC industry code"
        b.miss("skills", "seek_match", reason)
        b.miss("skills", "have_overlap", reason)
    else:
        seek, met, share = _seek_share(found, home)
        feature = b.config.feature("skills", "seek_match")
        src = _source_fields(sources)
        b.use(
            "skills",
            "seek_match",
            raw=round(share, 4),
            score=feature.normalise(share),
            explanation=(
                f"{p['name']} shows {', '.join(met) if met else 'none'} of the {len(seek)} "
                f"capabilities we seek ({', '.join(seek)}); evidence: "
                + "; ".join(f"{c} from {', '.join(w)}" for c, w in sorted(found.items()))
                + (f" ({what})" if not found else "")
                + "."
            ),
            **src,
        )
        if found:
            have = set(home.capabilities_have)
            overlap = sorted(c for c in found if c in have)
            share = len(overlap) / len(found)
            b.use(
                "skills",
                "have_overlap",
                raw=round(share, 4),
                score=b.config.feature("skills", "have_overlap").normalise(share),
                explanation=(
                    f"{len(overlap)} of the partner's {len(found)} capabilities "
                    f"({', '.join(sorted(found))}) are ones we already have"
                    + (f" ({', '.join(overlap)})" if overlap else "")
                    + "."
                ),
                **src,
            )
        else:
            b.miss(
                "skills",
                "have_overlap",
                f"{what} maps to no capability in config/fit.toml [[skills.sic]], so overlap "
                "cannot be judged",
            )
    _staff(b, facts)
    _named_business_lines(b, facts, home)


def _gleif_names(b: Builder, facts: Facts) -> list[tuple[str, str, dict[str, Any]]]:
    """(legal name, whose, citation): the partner's GLEIF legal name and its direct
    subsidiaries' as loaded from GLEIF."""
    p = b.partner
    names = []
    if _known(p["legal_name"]):
        names.append((str(p["legal_name"]), "the partner's legal name", _gleif(p)))
    for o in facts.ownership.get(p["partner_id"], []):
        if o["relation"] == "direct_child" and _known(o["child_name"]):
            source = {
                "table": "marts.partner_ownership",
                "key": o["ownership_key"],
                "url": o["source_url"],
                "at": o["fetched_at"],
            }
            names.append((str(o["child_name"]), "direct subsidiary", source))
    return names


def _named_business_lines(b: Builder, facts: Facts, home: HomeCompany) -> None:
    """Capabilities that GLEIF legal names name ([[skills.names]]): weak but real evidence of
    what a company does. A name naming nothing is unknown, never a zero."""
    names = _gleif_names(b, facts)
    if not names:
        b.miss(
            "skills",
            "named_business_lines",
            "no GLEIF legal name loaded (no LEI record, no direct subsidiaries)",
        )
        return
    found: dict[str, list[str]] = defaultdict(list)
    words: dict[str, list[str]] = defaultdict(list)  # rule note -> words seen for it
    sources = []
    for name, whose, source in names:
        hits = b.config.named_capabilities(name)
        for capability, word, rule in hits:
            found[capability].append(f"'{word}' in {whose} '{name}'")
            if word.casefold() not in words[rule.note]:
                words[rule.note].append(word.casefold())
        if hits:
            sources.append(source)
    if not found:
        b.miss(
            "skills",
            "named_business_lines",
            f"none of the {len(names)} GLEIF legal name(s) loaded contains a word of "
            "config/fit.toml [[skills.names]]",
        )
        return
    seek, met, share = _seek_share(found, home)
    b.use(
        "skills",
        "named_business_lines",
        raw=round(share, 4),
        score=b.config.feature("skills", "named_business_lines").normalise(share),
        explanation=(
            "GLEIF legal names name "
            + "; ".join(f"{c} ({', '.join(w)})" for c, w in sorted(found.items()))
            + f". Of the {len(seek)} capabilities we seek ({', '.join(seek)}) that covers "
            + (", ".join(met) if met else "none")
            + ". Read as: "
            + "; ".join(f"{', '.join(w)}: {note}" for note, w in words.items())
            + ". A name states a line of business, not its size."
        ),
        **_source_fields(sources),
    )


def _financial_source(row: dict[str, Any]) -> dict[str, Any]:
    """Where a figure from marts.partner_financials comes from, as Builder.use cites it."""
    return {
        "table": "marts.partner_financials",
        "key": row["financial_key"],
        "url": row["source_url"],
        "at": row["fetched_at"],
    }


def _staff(b: Builder, facts: Facts) -> None:
    p = b.partner
    feature = b.config.feature("skills", "staff_resources")
    employees = [f for f in facts.financials.get(p["partner_id"], []) if f["metric"] == "employees"]
    if employees:
        e = employees[0]
        b.use(
            "skills",
            "staff_resources",
            raw=float(e["value"]),
            score=feature.normalise(e["value"]),
            explanation=(
                f"{float(e['value']):,.0f} employees in fiscal {e['fiscal_year']} (SEC XBRL); "
                f"scale {feature.bounds_text()}."
            ),
            **_financial_source(e),
        )
    elif _known(p["employees_site"]) and str(p["employees_site"]).replace(",", "").isdigit():
        value = float(str(p["employees_site"]).replace(",", ""))
        b.use(
            "skills",
            "staff_resources",
            raw=value,
            score=feature.normalise(value),
            explanation=f"The partner's website states {value:,.0f} employees (schema.org).",
            table="marts.partner_web_profile",
            key=p["partner_id"],
            url=p["home_url"],
            at=p["crawled_at"],
        )
    elif p["entity_category"] == "SOLE_PROPRIETOR":
        score = float(feature.options.get("sole_proprietor_score", 0.0))
        b.use(
            "skills",
            "staff_resources",
            raw="SOLE_PROPRIETOR",
            score=score,
            explanation=(
                "GLEIF registers the partner as a sole proprietor: one person's resources, "
                "not a team to staff an alliance."
            ),
            table="staging.stg_gleif__lei_records",
            key=str(p["lei"]),
            url=p["gleif_url"],
            at=p["gleif_at"],
        )
    else:
        b.miss(
            "skills",
            "staff_resources",
            "no head count in SEC XBRL company facts or on the partner's website",
        )


# ------------------------------------------------------------------ cooperative cultures
def _distance(b: Builder, facts: Facts, name: str, measure: str, index: str, what: str) -> None:
    p = b.partner
    row = facts.distance.get((p["country_iso3"], measure))
    if row is None or not _known(row["value"]):
        reason = row["reason"] if row is not None and row["reason"] else "no distance computed"
        b.miss("cultures", name, f"{what}: {reason}")
        return
    feature = b.config.feature("cultures", name)
    cited = next(
        (
            v
            for (iso3, idx, _), v in facts.country.items()
            if iso3 == p["country_iso3"] and idx == index
        ),
        None,
    )
    b.use(
        "cultures",
        name,
        raw=round(float(row["value"]), 4),
        score=feature.normalise(row["value"]),
        explanation=(
            f"{what} between {_country_name(row['home_iso3'])} and "
            f"{_country_name(p['country_iso3'])} is {float(row['value']):.2f} over "
            f"{row['dims_used']} dimensions; scale {feature.bounds_text()}."
        ),
        table="marts.country_distance",
        key=f"{row['home_iso3']}:{p['country_iso3']}:{measure}",
        url=cited["source_url"] if cited else None,
        at=cited["fetched_at"] if cited else None,
    )


def _language(b: Builder, facts: Facts, home: HomeCompany) -> None:
    p = b.partner
    ours = set(home.languages)
    primary: list[tuple[str, str, dict[str, Any]]] = []
    if _known(p["legal_name_language"]):
        primary.append(
            (
                str(p["legal_name_language"]).lower().split("-")[0],
                "GLEIF legal name",
                _gleif(p),
            )
        )
    if _known(p["site_lang"]):
        primary.append(
            (
                str(p["site_lang"]).lower(),
                "website",
                {
                    "table": "marts.partner_web_profile",
                    "key": p["partner_id"],
                    "url": p["home_url"],
                    "at": p["crawled_at"],
                },
            )
        )
    secondary = [
        (
            str(o["language"]).lower().split("-")[0],
            f"GLEIF other name '{o['name']}'",
            {
                "table": "staging.stg_gleif__other_names",
                "key": p["lei"],
                "url": o["source_url"],
                "at": o["fetched_at"],
            },
        )
        for o in facts.other_names.get(p["partner_id"], [])
        if _known(o["language"])
    ]
    if not primary and not secondary:
        b.miss(
            "cultures", "language_overlap", "no language known (no GLEIF record, no crawled site)"
        )
        return
    feature = b.config.feature("cultures", "language_overlap")
    hit = next((x for x in primary if x[0] in ours), None)
    level = "primary"
    if hit is None:
        hit = next((x for x in secondary if x[0] in ours), None)
        level = "secondary"
    if hit is None:
        level = "none"
    shown = hit or (primary or secondary)[0]
    languages = sorted({x[0] for x in primary + secondary})
    b.use(
        "cultures",
        "language_overlap",
        raw=level,
        score=feature.category_score(level) or 0.0,
        explanation=(
            f"Partner languages {', '.join(languages)} (from {shown[1]}) against ours "
            f"({', '.join(sorted(ours)) or 'none configured'}): {level} overlap."
        ),
        **shown[2],
    )


def cultures(b: Builder, facts: Facts, home: HomeCompany, ctx: dict[str, Any]) -> None:
    _distance(
        b,
        facts,
        "cultural_distance_ks6",
        "kogut_singh_6d",
        "hofstede",
        "Kogut-Singh cultural distance (6-D)",
    )
    _distance(
        b,
        facts,
        "cultural_distance_ks4",
        "kogut_singh_4d",
        "hofstede",
        "Kogut-Singh cultural distance (4-D)",
    )
    _distance(
        b,
        facts,
        "institutional_distance",
        "institutional_euclidean",
        "wgi",
        "Institutional distance (WGI, Euclidean)",
    )
    _language(b, facts, home)


# ------------------------------------------------------------------ compatible aims
def _regions_of(iso3: str | None, config: FitConfig) -> list[str]:
    return sorted(name for name, codes in config.regions.items() if iso3 in codes)


def aims(b: Builder, facts: Facts, home: HomeCompany, ctx: dict[str, Any]) -> None:
    p = b.partner
    config = b.config
    targets = [str(t) for t in home.aims.get("target_regions", [])]
    unknown = [t for t in targets if t not in config.regions]
    if unknown:
        raise ConfigError(
            f"config/home.toml target region(s) {unknown} are not defined in "
            "config/fit.toml [aims.regions]"
        )
    target_codes = set().union(*(config.regions[t] for t in targets)) if targets else set()
    hq = _iso3(p["hq_address_country"])
    sec = p["sec_country"] if _known(p["sec_country"]) else None
    if hq:
        country, src = hq, {**_gleif(p), "what": "GLEIF headquarters address"}
    elif sec:
        country, src = str(sec), {**_sec(p), "what": "SEC business address"}
    else:
        b.miss(
            "aims",
            "home_market_in_target_region",
            "no GLEIF or SEC address confirms the home market "
            f"(the registry says {p['country_iso3']})",
        )
        country, src = None, {}
    if country is not None:
        _home_market(b, country, src, targets, target_codes)
    _subsidiaries(b, facts, target_codes)
    _size_revenue(b, facts, home)
    _size_class(b, home)


def _home_market(
    b: Builder, country: str, src: dict[str, Any], targets: list[str], target_codes: set[str]
) -> None:
    config = b.config
    inside = country in target_codes
    feature = config.feature("aims", "home_market_in_target_region")
    regions = _regions_of(country, config)
    b.use(
        "aims",
        "home_market_in_target_region",
        raw=country,
        score=feature.category_score("inside" if inside else "outside") or 0.0,
        explanation=(
            f"Home market {_country_name(country)} ({src['what']}; region "
            f"{', '.join(regions) or 'not in any configured region'}) is "
            f"{'inside' if inside else 'outside'} our target regions ({', '.join(targets)})."
        ),
        table=src["table"],
        key=str(src["key"]),
        url=src["url"],
        at=src["at"],
    )


def _subsidiaries(b: Builder, facts: Facts, target_codes: set[str]) -> None:
    p = b.partner
    config = b.config
    children = [
        o for o in facts.ownership.get(p["partner_id"], []) if o["relation"] == "direct_child"
    ]
    located = [(o, c) for o in children if (c := _iso3(o["child_country"]))]
    if located:
        share = sum(1 for _, c in located if c in target_codes) / len(located)
        b.use(
            "aims",
            "subsidiaries_in_target_regions",
            raw=round(share, 4),
            score=config.feature("aims", "subsidiaries_in_target_regions").normalise(share),
            explanation=(
                f"{sum(1 for _, c in located if c in target_codes)} of {len(located)} direct "
                f"subsidiaries loaded from GLEIF are in our target regions (countries: "
                f"{', '.join(sorted({c for _, c in located}))})."
            ),
            table="marts.partner_ownership",
            key=f"{p['partner_id']}:direct_child",
            url=located[0][0]["source_url"],
            at=located[0][0]["fetched_at"],
        )
    else:
        b.miss("aims", "subsidiaries_in_target_regions", "no direct subsidiaries loaded from GLEIF")


def _latest_revenue(facts: Facts, partner_id: str) -> list[dict[str, Any]]:
    return [f for f in facts.financials.get(partner_id, []) if f["metric"] == "revenue"]


def _size_revenue(b: Builder, facts: Facts, home: HomeCompany) -> None:
    revenue = _latest_revenue(facts, b.partner["partner_id"])
    home_revenue = home.size.get("revenue_usd")
    if not revenue:
        b.miss(
            "aims", "size_symmetry_revenue", "no annual revenue loaded from SEC XBRL company facts"
        )
        return
    r = revenue[0]
    if r["unit"] != "USD" or not home_revenue or float(r["value"]) <= 0:
        b.miss(
            "aims",
            "size_symmetry_revenue",
            f"revenue is in {r['unit']} and ours in USD ({home_revenue}); "
            "no exchange rate is loaded",
        )
        return
    gap = abs(math.log10(float(r["value"]) / float(home_revenue)))
    b.use(
        "aims",
        "size_symmetry_revenue",
        raw=round(gap, 4),
        score=b.config.feature("aims", "size_symmetry_revenue").normalise(gap),
        explanation=(
            f"Revenue USD {float(r['value']):,.0f} (fiscal {r['fiscal_year']}) against our USD "
            f"{float(home_revenue):,.0f}: {gap:.2f} orders of magnitude apart."
        ),
        **_financial_source(r),
    )


def _size_class(b: Builder, home: HomeCompany) -> None:
    p = b.partner
    config = b.config
    ours = str(home.size.get("size_class", ""))
    if _known(p["filer_category"]) and p["filer_category"] in config.size_class_of:
        theirs, why = (
            config.size_class_of[p["filer_category"]],
            f"SEC filer category '{p['filer_category']}'",
        )
        src = _sec(p)
    elif p["entity_category"] in config.size_class_of:
        theirs, why = (
            config.size_class_of[p["entity_category"]],
            f"GLEIF category {p['entity_category']}",
        )
        src = _gleif(p)
    else:
        b.miss("aims", "size_symmetry_class", "no SEC filer category or GLEIF size category")
        return
    if ours not in config.size_classes or theirs not in config.size_classes:
        b.miss(
            "aims",
            "size_symmetry_class",
            f"size class {ours!r} or {theirs!r} not in [aims.size_classes] order",
        )
        return
    apart = abs(config.size_classes.index(ours) - config.size_classes.index(theirs))
    level = "same" if apart == 0 else ("one_apart" if apart == 1 else "further")
    b.use(
        "aims",
        "size_symmetry_class",
        raw=theirs,
        score=config.feature("aims", "size_symmetry_class").category_score(level) or 0.0,
        explanation=(
            f"{why} puts the partner in size class '{theirs}'; ours is '{ours}' "
            f"({level.replace('_', ' ')})."
        ),
        **src,
    )


# ------------------------------------------------------------------ commensurate risk
def _index(b: Builder, facts: Facts, name: str, index: str, dimension: str, fmt: str) -> None:
    p = b.partner
    row = facts.country.get((p["country_iso3"], index, dimension))
    feature = b.config.feature("risk", name)
    if row is None or not _known(row["value"]):
        b.miss(
            "risk",
            name,
            f"{feature.label} has no value for {_country_name(p['country_iso3'])} "
            "in the loaded files",
        )
        return
    b.use(
        "risk",
        name,
        raw=float(row["value"]),
        score=feature.normalise(row["value"]),
        explanation=(
            f"{feature.label} of {_country_name(p['country_iso3'])} ({row['year']}) is "
            f"{format(float(row['value']), fmt)}; scale {feature.bounds_text()}."
        ),
        table="marts.country_profile",
        key=f"{p['country_iso3']}:{index}:{dimension}",
        url=row["source_url"],
        at=row["fetched_at"],
    )


def _sanctions(b: Builder, facts: Facts, threshold: float) -> None:
    p = b.partner
    feature = b.config.feature("risk", "sanctions_screening")
    if not facts.sanctions_lists or not _known(p["sanctions_hit_count"]):
        b.miss("risk", "sanctions_screening", "no sanctions list was loaded in this refresh")
        return
    hits = [h for h in facts.hits.get(p["partner_id"], []) if float(h["score"]) >= threshold]
    lists = ", ".join(f"{s['list_name']} ({s['list_published']})" for s in facts.sanctions_lists)
    if not hits:
        first = facts.sanctions_lists[0]
        b.use(
            "risk",
            "sanctions_screening",
            raw="clear",
            score=feature.category_score("clear") or 0.0,
            explanation=f"No candidate at or above score {threshold:g} on {lists}.",
            table="staging.stg_sanctions__entries",
            key=", ".join(s["list_name"] for s in facts.sanctions_lists),
            url=first["source_url"],
            at=first["fetched_at"],
        )
        return
    top = hits[0]
    text = (
        f"{len(hits)} candidate(s) at or above {threshold:g}; best: '{top['matched_name']}' "
        f"matches '{top['listed_name']}' on {top['list']} with score {float(top['score']):.1f}. "
        "A candidate is for review, not a verdict."
    )
    b.use(
        "risk",
        "sanctions_screening",
        raw="candidate",
        score=feature.category_score("candidate") or 0.0,
        explanation=text,
        table="marts.partner_sanctions_hits",
        key=top["hit_key"],
        url=top["source_url"],
        at=None,
    )
    b.flag(
        "sanctions_candidate",
        explanation=text,
        table="marts.partner_sanctions_hits",
        key=top["hit_key"],
        url=top["source_url"],
        at=None,
    )


def _adverse(b: Builder, facts: Facts) -> None:
    p = b.partner
    if not _known(p["adverse_articles"]):
        b.miss("risk", "adverse_media", "no news was collected for the partner")
        return
    articles = facts.adverse.get(p["partner_id"], [])
    count = float(p["adverse_articles"])
    categories = sorted({a["category"] for a in articles})
    b.use(
        "risk",
        "adverse_media",
        raw=count,
        score=b.config.feature("risk", "adverse_media").normalise(count),
        explanation=(
            f"{count:.0f} adverse-media article(s) among {p['news_count_total']} collected"
            + (f" ({', '.join(categories)})" if categories else "")
            + "."
        ),
        table="marts.partner_media_summary",
        key=p["partner_id"],
        url=articles[0]["url"] if articles else None,
        at=articles[0]["fetched_at"] if articles else None,
    )


def _registration(b: Builder) -> None:
    p = b.partner
    gleif = _gleif(p)
    if not _known(p["registration_status"]):
        b.miss("risk", "lei_registration", "no GLEIF record (no LEI given or resolved)")
        return
    status = str(p["registration_status"])
    score = b.config.feature("risk", "lei_registration").category_score(status)
    if score is None:
        b.miss(
            "risk",
            "lei_registration",
            f"registration status {status} has no score in config/fit.toml",
        )
    else:
        b.use(
            "risk",
            "lei_registration",
            raw=status,
            score=score,
            explanation=f"GLEIF registration status of LEI {p['lei']} is {status}.",
            **gleif,
        )
    if status == "LAPSED":
        b.flag(
            "lei_lapsed",
            explanation=(
                f"LEI {p['lei']} has lapsed: its reference data is no longer renewed or checked."
            ),
            **gleif,
        )
    if _known(p["entity_status"]) and p["entity_status"] == "INACTIVE":
        b.flag(
            "entity_inactive",
            explanation=f"GLEIF entity status of {p['lei']} is INACTIVE.",
            **gleif,
        )


def _ownership(b: Builder, facts: Facts) -> None:
    p = b.partner
    ultimate = [
        o for o in facts.ownership.get(p["partner_id"], []) if o["relation"] == "ultimate_parent"
    ]
    if not ultimate:
        b.miss(
            "risk",
            "ownership_transparency",
            "no GLEIF ultimate-parent record or reporting exception loaded",
        )
        return
    u = ultimate[0]
    key = "PARENT_REPORTED" if _known(u["parent_lei"]) else str(u["exception_reason"])
    score = b.config.feature("risk", "ownership_transparency").category_score(key)
    if score is None:
        b.miss(
            "risk",
            "ownership_transparency",
            f"reporting exception {key} has no score in config/fit.toml",
        )
        return
    text = (
        f"Ultimate parent reported: {u['parent_name'] or u['parent_lei']}."
        if key == "PARENT_REPORTED"
        else f"No ultimate parent reported to GLEIF, reason {key}."
    )
    b.use(
        "risk",
        "ownership_transparency",
        raw=key,
        score=score,
        explanation=text,
        table="marts.partner_ownership",
        key=u["ownership_key"],
        url=u["source_url"],
        at=u["fetched_at"],
    )


def _financial(b: Builder, facts: Facts) -> None:
    revenue = [r for r in _latest_revenue(facts, b.partner["partner_id"]) if r["unit"] == "USD"]
    if not revenue:
        reason = "no annual USD revenue loaded from SEC XBRL company facts"
        b.miss("risk", "financial_size", reason)
        b.miss("risk", "financial_trend", reason)
        return
    latest = revenue[0]
    feature = b.config.feature("risk", "financial_size")
    b.use(
        "risk",
        "financial_size",
        raw=float(latest["value"]),
        score=feature.normalise(latest["value"]),
        explanation=(
            f"Revenue USD {float(latest['value']):,.0f} in fiscal {latest['fiscal_year']}; "
            f"scale {feature.bounds_text()}."
        ),
        **_financial_source(latest),
    )
    window = [r for r in revenue if latest["fiscal_year"] - r["fiscal_year"] <= 3]
    oldest = window[-1]
    years = latest["fiscal_year"] - oldest["fiscal_year"]
    if years < 1 or float(oldest["value"]) <= 0:
        b.miss("risk", "financial_trend", "fewer than two fiscal years of revenue")
        return
    growth = (float(latest["value"]) / float(oldest["value"])) ** (1 / years) - 1
    trend = b.config.feature("risk", "financial_trend")
    b.use(
        "risk",
        "financial_trend",
        raw=round(growth, 4),
        score=trend.normalise(growth),
        explanation=(
            f"Revenue grew {growth:+.1%} a year from fiscal {oldest['fiscal_year']} to "
            f"{latest['fiscal_year']}; scale {trend.bounds_text()}."
        ),
        table="marts.partner_financials",
        key=f"{latest['financial_key']} vs {oldest['financial_key']}",
        url=latest["source_url"],
        at=latest["fetched_at"],
    )


def risk(b: Builder, facts: Facts, home: HomeCompany, ctx: dict[str, Any]) -> None:
    _index(b, facts, "rule_of_law", "wgi", "rl", "+.2f")
    _index(b, facts, "control_of_corruption", "wgi", "cc", "+.2f")
    _index(b, facts, "corruption_perception", "cpi", "score", ".0f")
    _index(b, facts, "ip_protection", "ip_protection", "score", ".1f")
    _sanctions(b, facts, float(ctx["sanctions_threshold"]))
    _adverse(b, facts)
    _registration(b)
    _ownership(b, facts)
    _financial(b, facts)


EXTRACTORS: tuple[Extractor, ...] = (skills, cultures, aims, risk)


def partner_evidence(
    partner: dict[str, Any], facts: Facts, home: HomeCompany, config: FitConfig, ctx: dict[str, Any]
) -> list[dict[str, Any]]:
    builder = Builder(partner, config)
    for extract in EXTRACTORS:
        extract(builder, facts, home, ctx)
    configured = {(c, name) for c, feats in config.features.items() for name in feats}
    produced = {(r["c"], r["feature"]) for r in builder.rows if r["status"] != "red_flag"}
    for c, name in sorted(configured - produced):  # a configured feature no extractor knows
        builder.miss(c, name, "no extractor reads this feature (flows/fit/evidence.py)")
    return builder.rows
