"""Adding one partner to the registry CSV file, or updating its line: what `partnerdd request`
writes. Every other line stays byte for byte as it was; the file is replaced atomically, and
the bytes it had are kept so that a failed request can put them back.

The same company is never added twice: a line is the same company when it gives the same LEI
or CIK, when the published database resolved that line to the LEI or CIK the request found,
or when its name (legal forms aside) and country are the request's.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Collection
from dataclasses import dataclass, replace
from pathlib import Path

from connectors.names import normalise_name
from connectors.source import Partner
from flows.registry import COLUMNS, RegistryFileError, parse_registry, slugify


@dataclass(frozen=True)
class Requested:
    """The company as the requester gave it (country as typed; website, LEI, CIK optional)."""

    name: str
    country: str
    website: str | None = None
    lei: str | None = None
    cik: str | None = None

    def cells(self, partner_id: str) -> dict[str, str]:
        return {
            "partner_id": partner_id,
            "name": self.name,
            "website": self.website or "",
            "country": self.country,
            "lei": (self.lei or "").upper(),
            "cik": self.cik or "",
        }


@dataclass(frozen=True)
class RegistryEdit:
    """One planned change of the registry file: `before` is what it holds now (None: no file
    yet), `after` what the request writes; `action` added, updated or unchanged."""

    path: Path
    before: bytes | None
    after: bytes
    partner_id: str
    line: int
    action: str
    text: str  # the partner's line as written

    def write(self) -> None:
        if self.after != self.before:
            _replace(self.path, self.after)

    def restore(self) -> None:
        """Put the file back as it was before the request (a failed request changes nothing)."""
        if self.before is None:
            self.path.unlink(missing_ok=True)
        elif self.path.read_bytes() != self.before:
            _replace(self.path, self.before)


def _replace(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.request-{os.getpid()}")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def check(requested: Requested) -> Partner:
    """The requested company read like a registry line (country, LEI check digits, CIK,
    website): RegistryFileError saying which cell is wrong, before anything is written."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerow(requested.cells(slugify(requested.name)))
    partners, issues = parse_registry(buffer.getvalue())
    if issues:
        raise RegistryFileError("; ".join(f"{i.column} {i.value!r}: {i.message}" for i in issues))
    return partners[0]


def _records(text: str) -> list[tuple[int, int, list[str]]]:
    """(first physical line, last physical line, cells) of every CSV record, header first."""
    reader = csv.reader(io.StringIO(text))
    out = []
    last = 0
    for cells in reader:
        out.append((last + 1, reader.line_num, cells))
        last = reader.line_num
    return out


def _same_company(
    partner: Partner,
    wanted: Partner,
    lei: str | None,
    cik: str | None,
    resolved_to_same: Collection[str],
) -> bool:
    if lei and partner.lei == lei or cik and partner.cik == cik:
        return True
    if partner.partner_id in resolved_to_same:
        return True
    return (
        normalise_name(partner.name) == normalise_name(wanted.name)
        and partner.country_iso3 == wanted.country_iso3
    )


def plan(
    path: Path,
    requested: Requested,
    *,
    lei: str | None = None,
    cik: str | None = None,
    resolved_to_same: Collection[str] = (),
    seed: Path | None = None,
) -> RegistryEdit:
    """The edit that adds `requested` to the registry at `path`, or updates the line of the
    same company (fields the request gives replace the line's; its id, name and country
    stay). `lei`/`cik`: the identifiers the request has (given or found); `resolved_to_same`:
    partner ids the published database resolved to them; `seed`: a registry whose lines a
    file that does not exist yet starts with (the offline demo's)."""
    wanted = check(requested)
    # the line holds the values as the registry reads them (https:// added, CIK padded)
    requested = replace(requested, website=wanted.website, lei=wanted.lei, cik=wanted.cik)
    before = path.read_bytes() if path.exists() else None
    text = before.decode("utf-8-sig") if before is not None else ""
    if before is None and seed is not None:
        text = seed.read_text(encoding="utf-8-sig")
    bom = "\ufeff" if before is not None and before.startswith(b"\xef\xbb\xbf") else ""
    newline = "\r\n" if "\r\n" in text else "\n"
    partners, _ = parse_registry(text) if text.strip() else ([], [])
    records = _records(text)
    header = [h.strip().lower() for h in records[0][2]] if records else list(COLUMNS)
    if not set(("name", "country")) <= set(header):
        raise RegistryFileError(f"{path}: the registry header lacks name or country: {header}")
    match = next(
        (p for p in partners if _same_company(p, wanted, lei, cik, resolved_to_same)), None
    )

    def line_of(cells: dict[str, str]) -> str:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="").writerow([cells.get(h, "") for h in header])
        return buffer.getvalue()

    if match is not None:
        first, last, old = next(r for r in records if r[0] <= match.line <= r[1])
        cells = dict(zip(header, old, strict=False))
        given = requested.cells(match.partner_id)
        for column in ("website", "lei", "cik"):
            if given[column]:
                cells[column] = given[column]
        new_line = line_of(cells)
        lines = text.splitlines(keepends=True)
        ending = newline if lines[last - 1].endswith(("\n", "\r")) else ""
        lines[first - 1 : last] = [new_line + ending]
        after = (bom + "".join(lines)).encode("utf-8")
        action = "unchanged" if after == before else "updated"
        return RegistryEdit(path, before, after, match.partner_id, first, action, new_line)
    taken = {p.partner_id for p in partners}
    partner_id = base = slugify(requested.name)
    number = 2
    while partner_id in taken:
        partner_id, number = f"{base}-{number}", number + 1
    if not text:
        text = ",".join(header) + newline
    elif not text.endswith(("\n", "\r")):
        text += newline
    new_line = line_of(requested.cells(partner_id))
    added = text + new_line + newline
    return RegistryEdit(
        path, before, (bom + added).encode("utf-8"), partner_id, added.count("\n"), "added",
        new_line,
    )  # fmt: skip
