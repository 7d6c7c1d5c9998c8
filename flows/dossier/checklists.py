"""The first meetings' launch questions and the alliance agreement checklist (from the seeds:
Arena's launch questions; Brouthers et al. and the agreement terms), each tied to the data
that bears on it. A question is "answered by data" only when a loaded fact answers it; the
rest are "to ask", with whatever data hints at the answer."""

from __future__ import annotations

from typing import Any

ANSWERED = "answered by data"
TO_ASK = "to ask"


def _evidence(data: dict[str, Any], feature: str) -> dict[str, Any] | None:
    fit = data.get("fit") or {}
    for c in fit.get("cs", []):
        for row in c["evidence"]:
            if row["feature"] == feature:
                return dict(row)
    for row in fit.get("red_flag_rows", []):
        if row["feature"] == feature:
            return dict(row)
    return None


def _used(data: dict[str, Any], feature: str) -> dict[str, Any] | None:
    row = _evidence(data, feature)
    return row if row and row["status"] in ("used", "red_flag") else None


def _hofstede(data: dict[str, Any]) -> dict[str, float]:
    return {
        i["dimension"]: i["partner"]
        for i in data["country_indices"]
        if i["index"] == "hofstede" and i["partner"] is not None
    }


def launch_questions(data: dict[str, Any]) -> list[dict[str, Any]]:
    p = data["profile"]
    parents = {o["relation"]: o for o in data["ownership"] if o["relation"].endswith("parent")}
    children = [o for o in data["ownership"] if o["relation"] == "direct_child"]
    hofstede = _hofstede(data)
    questions: list[dict[str, Any]] = []

    def ask(question: str, answered: bool, data_text: str) -> None:
        questions.append(
            {"question": question, "status": ANSWERED if answered else TO_ASK, "data": data_text}
        )

    structure = []
    if p.get("legal_form"):
        structure.append(
            f"legal form {p['legal_form']} ({p.get('jurisdiction') or 'jurisdiction unknown'})"
        )
    if children:
        structure.append(f"{len(children)} direct subsidiaries loaded from GLEIF")
    ask(
        "How is the organisation structured?",
        bool(children or parents),
        "; ".join(structure) or "no GLEIF structure data",
    )
    ultimate = parents.get("ultimate_parent")
    control = (
        f"ultimate parent {ultimate['parent_name'] or ultimate['parent_lei']}"
        if ultimate and ultimate.get("parent_lei")
        else (f"no ultimate parent, reason {ultimate['exception_reason']}" if ultimate else "")
    )
    ask(
        "How are capital and people decisions made, and by whom?",
        False,
        (control + " (who controls, not how decisions are made)") if control else "no data",
    )
    ask(
        "How does information flow inside the company?",
        False,
        f"national power distance {hofstede['pdi']:g} (Hofstede; national level only)"
        if "pdi" in hofstede
        else "no data",
    )
    seen = p.get("capabilities") or ""
    sic = _used(data, "seek_match")
    ask(
        "Which business units would be involved?",
        False,
        "; ".join(
            x
            for x in (
                f"capabilities on the website: {seen}" if seen else "",
                sic["explanation"] if sic else "",
            )
            if x
        )
        or "no data",
    )
    direct = parents.get("direct_parent")
    ask(
        "What are the reporting lines?",
        bool(direct and direct.get("parent_lei")),
        f"direct parent {direct['parent_name'] or direct['parent_lei']} (GLEIF)"
        if direct and direct.get("parent_lei")
        else (
            f"no direct parent reported, reason {direct['exception_reason']}"
            if direct
            else "no data"
        ),
    )
    ask(
        "What are the dominant cultural values?",
        bool(hofstede),
        (
            "national culture (Hofstede): "
            + ", ".join(f"{k} {v:g}" for k, v in sorted(hofstede.items()))
            + "; organisational and professional culture still to ask"
        )
        if hofstede
        else "no data",
    )
    return questions


def agreement_checklist(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The agreement's terms; `flags` are data points that need attention in that clause."""
    p = data["profile"]
    risk = data["home"]["risk"]
    items: dict[str, list[str]] = {
        name: []
        for name in (
            "scope",
            "objectives and milestones",
            "roles",
            "communication",
            "cost and revenue sharing",
            "ownership of new IP",
            "joint marketing",
            "conflict resolution",
            "termination",
        )
    }
    if p.get("lei_lapsed"):
        items["scope"].append(f"LEI {p['lei']} has lapsed: verify the legal entity before signing")
    if p.get("entity_status") == "INACTIVE":
        items["scope"].append("GLEIF reports the entity as inactive: verify it still trades")
    if not p.get("lei"):
        items["scope"].append("no LEI: confirm the exact contracting entity")
    seek = _used(data, "seek_match")
    if seek:
        items["scope"].append(seek["explanation"])
    market = _used(data, "home_market_in_target_region")
    if market:
        items["objectives and milestones"].append(market["explanation"])
    horizon = data["home"]["aims"].get("horizon_years")
    if horizon:
        items["objectives and milestones"].append(
            f"our time horizon is {horizon} years: agree milestones to match"
        )
    size = _used(data, "size_symmetry_class")
    if size and size["score"] is not None and size["score"] < 100:
        items["roles"].append(
            size["explanation"] + " Agree decision rights and resource commitments."
        )
    language = _used(data, "language_overlap")
    if language and language["raw_value"] == "none":
        items["communication"].append(
            "no shared working language found: agree the contract and working language"
        )
    distance = _used(data, "cultural_distance_ks6") or _used(data, "cultural_distance_ks4")
    if distance and (distance["raw_number"] or 0) >= 2:
        items["communication"].append(distance["explanation"] + " Plan for it.")
    if not data["financials"]:
        items["cost and revenue sharing"].append(
            "no filed financials loaded: ask for audited statements"
        )
    trend = _used(data, "financial_trend")
    if trend and (trend["raw_number"] or 0) < 0:
        items["cost and revenue sharing"].append(trend["explanation"])
    ip = p.get("ip_protection")
    floor = risk.get("min_ip_protection")
    if ip is None:
        items["ownership of new IP"].append(
            "IP protection in the partner's country is unknown: check before sharing IP"
        )
    elif floor is not None and ip < float(floor):
        items["ownership of new IP"].append(
            f"weak IP protection in {p.get('country_name') or p.get('country')} "
            f"({ip:.1f} < our minimum "
            f"{float(floor):g}): the IP clause needs attention"
        )
    if p.get("ip_protection_gap") is not None and p["ip_protection_gap"] < 0:
        items["ownership of new IP"].append(
            f"IP protection {abs(p['ip_protection_gap']):.1f} points weaker than at home"
        )
    adverse = p.get("adverse_articles")
    if adverse:
        items["joint marketing"].append(
            f"{adverse} adverse-media article(s): check reputational fit"
        )
    elif adverse is None:
        items["joint marketing"].append("no news collected: reputation unchecked")
    rl = p.get("gov_rl")
    rl_floor = risk.get("min_governance_rule_of_law")
    if rl is not None and rl_floor is not None and rl < float(rl_floor):
        items["conflict resolution"].append(
            f"rule of law {rl:+.2f} below our minimum {float(rl_floor):+.2f}: "
            "prefer arbitration at a neutral venue"
        )
    if (
        p.get("institutional_distance_euclidean") is not None
        and p["institutional_distance_euclidean"] >= 2
    ):
        items["conflict resolution"].append(
            f"institutional distance {p['institutional_distance_euclidean']:.2f}: "
            "agree governing law explicitly"
        )
    if data["sanctions"]:
        items["termination"].append(
            f"{len(data['sanctions'])} sanctions-list candidate(s) to review before contact; "
            "include a sanctions termination right"
        )
    ownership = _used(data, "ownership_transparency")
    if ownership and (ownership["score"] or 0) < 50:
        items["termination"].append(ownership["explanation"] + " Add a change-of-control clause.")
    return [{"item": name, "flags": flags} for name, flags in items.items()]
