"""The partner registry CSV: who to look at. Bad rows are reported by line and column;
good rows still run."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from connectors.countries import resolve
from connectors.identifiers import lei_checksum_ok, normalise_cik
from connectors.source import Partner

COLUMNS = ("partner_id", "name", "website", "country", "lei", "cik")
REQUIRED = ("name", "country")


@dataclass(frozen=True)
class RegistryIssue:
    line: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column!r} ({self.value!r}): {self.message}"


class RegistryFileError(ValueError):
    """The file as a whole cannot be read as a registry (no header, missing columns)."""


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")[:60] or "partner"


def _check_row(line: int, row: dict[str, str]) -> tuple[Partner | None, list[RegistryIssue]]:
    issues: list[RegistryIssue] = []
    value = {k: (row.get(k) or "").strip() for k in COLUMNS}

    def bad(column: str, message: str) -> None:
        issues.append(RegistryIssue(line, column, value[column], message))

    for column in REQUIRED:
        if not value[column]:
            bad(column, "is required")
    country = resolve(value["country"]) if value["country"] else None
    if country is not None and country.iso3 is None:
        bad("country", "is not an ISO 3166 country code or name")
    lei = value["lei"].upper()
    if lei and not lei_checksum_ok(lei):
        bad("lei", "is not a valid LEI (ISO 17442 needs 20 characters and check digits)")
    cik = None
    if value["cik"]:
        try:
            cik = normalise_cik(value["cik"])
        except ValueError as exc:
            bad("cik", str(exc))
    website = value["website"] or None
    if website:
        if "://" not in website:
            website = "https://" + website
        parts = urlsplit(website)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            bad("website", "must be an http(s) URL with a host name")
    if issues or country is None or country.iso3 is None:
        return None, issues
    partner = Partner(
        partner_id=value["partner_id"] or slugify(value["name"]),
        name=value["name"],
        country_iso3=country.iso3,
        country_iso2=country.iso2,
        website=website,
        lei=lei or None,
        cik=cik,
        line=line,
    )
    return partner, issues


def parse_registry(text: str) -> tuple[list[Partner], list[RegistryIssue]]:
    """Partners from registry CSV text, and one issue per bad cell (line numbers as in the file)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if not header:
        raise RegistryFileError(
            "the registry is empty: expected a header line with " + ", ".join(COLUMNS)
        )
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise RegistryFileError(
            f"the registry header lacks required column(s) {missing}; found {header}"
        )
    reader.fieldnames = header
    partners: list[Partner] = []
    issues: list[RegistryIssue] = []
    seen: dict[str, int] = {}
    rows = 0
    for row in reader:
        line = reader.line_num
        extra = row.pop(None, None)
        if extra:
            raise RegistryFileError(
                f"line {line}, column {len(header) + 1} ({extra[0]!r}): the row has "
                f"{len(header) + len(extra)} fields but the header has {len(header)}; "
                "quote values that contain commas"
            )
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        rows += 1
        partner, row_issues = _check_row(line, row)
        issues.extend(row_issues)
        if partner is None:
            continue
        if partner.partner_id in seen:
            issues.append(
                RegistryIssue(
                    line,
                    "partner_id",
                    partner.partner_id,
                    f"duplicates the partner on line {seen[partner.partner_id]}",
                )
            )
            continue
        seen[partner.partner_id] = line
        partners.append(partner)
    if not rows:
        raise RegistryFileError("the registry has a header but no partner rows")
    return partners, issues


def read_registry(path: Path) -> tuple[list[Partner], list[RegistryIssue]]:
    """The registry file, or RegistryFileError naming the file (and line and column) when
    it cannot be read as a whole; nothing is changed then."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise RegistryFileError(
            f"{path}: line {line}, byte column {column}: not UTF-8 ({exc.reason}); "
            "save the registry as UTF-8"
        ) from exc
    try:
        return parse_registry(text)
    except RegistryFileError as exc:
        raise RegistryFileError(f"{path}: {exc}") from exc
