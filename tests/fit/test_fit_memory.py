"""marts.partner_fit reads of its evidence only what scoring uses: at 10,000 partners the
evidence's URLs and explanations, sorted with every row, outgrew the writer's 256 MB memory
limit. Here 40,000 evidence rows of 2 KB each under a 16 MB limit."""

from __future__ import annotations

from pathlib import Path

from connectors.config import load_settings
from flows.fit.config import CS
from flows.marts import partner_fit
from tests.fit.warehouse import HOME, empty_warehouse

PARTNERS = 2_000
INPUTS = 20  # evidence rows per partner


def test_partner_fit_scores_evidence_larger_than_the_memory_limit(tmp_path: Path) -> None:
    con = empty_warehouse(tmp_path / "w.duckdb")
    con.execute("set memory_limit = '16MB'")
    con.execute(
        "insert into staging.stg_registry__partners (partner_id, name, country_iso3) "
        "select 'p' || lpad(i::varchar, 5, '0'), 'Partner ' || i, 'DEU' "
        "from range($n) as t(i)",
        {"n": PARTNERS},
    )
    con.execute(
        "insert into marts.partner_fit_evidence by name select "
        "'p' || lpad((i // $k)::varchar, 5, '0') as partner_id, i::varchar as evidence_key, "
        "$cs[1 + i % 4] as c, 'feature_' || (i % $k) as feature, 'Input ' || (i % $k) as label, "
        "'used' as status, (i % 101)::double as score, 1.0 as weight, "
        "'https://example.org/' || repeat('x', 1700) || i as source_url, "
        "repeat('why ', 75) as explanation from range($n * $k) as t(i)",
        {"n": PARTNERS, "k": INPUTS, "cs": list(CS)},
    )
    context = {"home": HOME, "env": {}, "run_id": "test", "settings": load_settings({})}
    fit = partner_fit.compute(con, context)
    assert len(fit) == PARTNERS
    assert (fit["inputs_used"] == INPUTS).all()
    assert fit["overall_score"].notna().all()
    con.close()
