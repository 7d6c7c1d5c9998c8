"""What `partnerdd request` prints: the candidates of an ambiguous request, or where the
dossier is and what it says."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text


def ambiguous_table(result: dict[str, Any]) -> Table:
    table = Table("choose with", "candidate", "name", "confidence", title="candidates")
    for scheme, found in result["identity"].items():
        if found["status"] != "ambiguous":
            continue
        for c in found["candidates"]:
            table.add_row(
                f"--{scheme}",
                str(c.get(scheme)),
                Text(str(c.get("legal_name") or c.get("title") or "")),
                f"{float(c.get('confidence') or 0):.2f}",
            )
        table.caption = f"{scheme}: {found['reason']}"
    return table


def request_lines(result: dict[str, Any]) -> list[Text]:
    identity, fit = result["identity"], result.get("fit") or {}

    def found(scheme: str) -> str:
        row = identity.get(scheme) or {}
        if row.get("value"):
            return f"{row['value']} ({row['status']})"
        return f"not found ({row.get('status', 'none')}: {row.get('reason') or 'no search'})"

    lines = [
        Text(f"run {result['run_id']}: {result['status']} -> {result['database']}"),
        Text(
            f"registry {result['registry']}: {result['registry_action']} line "
            f"{result['registry_line']}: {result['registry_text']}"
        ),
        Text(f"LEI {found('lei')}; CIK {found('cik')}"),
        Text(f"tier: {fit.get('tier') or 'unknown'} — {fit.get('tier_reason') or ''}"),
    ]
    if result.get("found_nothing"):
        lines.append(
            Text(
                "nothing identifies this company: the dossier says what was searched and what "
                "to ask",
                style="yellow",
            )
        )
    timings = result.get("request_timings") or {}
    if timings:
        stages = ", ".join(f"{k} {v:.1f} s" for k, v in timings.items() if k != "total")
        lines.append(Text(f"request time: total {timings['total']:.1f} s ({stages})"))
    refresh = result.get("timings") or {}
    if refresh:
        stages = ", ".join(f"{k} {v:.1f} s" for k, v in refresh.items() if "parse " not in k)
        lines.append(Text(f"refresh time: {stages}", style="dim"))
    lines.append(Text(f"dossier: {result['dossier']['html']}", style="bold"))
    if "pdf" in result["dossier"]:
        lines.append(Text(f"dossier PDF: {result['dossier']['pdf']}", style="bold"))
    return lines
