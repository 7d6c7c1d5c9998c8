"""Pure parsers for the OFAC SDN legacy CSV files and the UN Security Council consolidated XML.

Two row shapes come out of every list (see ENTRY_COLUMNS and NAME_COLUMNS):

* entries: one row per listed person, entity, vessel or aircraft;
* names: one row per name under which the entry is listed (primary, aka, fka, weak).

OFAC's CSV files carry no publication date; the caller passes ``list_published`` (see
``ofac_list_published`` for how it is chosen).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from email.utils import parsedate_to_datetime
from typing import Any

from lxml import etree

from connectors.countries import to_iso3
from connectors.http import Answer

OFAC_SDN = "OFAC_SDN"
UN_SC = "UN_SC"

ENTRY_COLUMNS = (
    "list_name",
    "entry_id",
    "entity_type",
    "primary_name",
    "programs",  # list[str]
    "remarks",
    "countries",  # list[str], as written in the list
    "country_codes",  # list[str], ISO 3166-1 alpha-3 where the country name resolves
    "listed_on",  # ISO date or None (UN only; OFAC's CSV has no designation date)
    "reference_number",  # UN reference number ("KPi.033"); None for OFAC
    "list_published",
    "source_url",
    "sha256",
)
NAME_COLUMNS = ("list_name", "entry_id", "name", "name_type", "source_url")
ADDRESS_COLUMNS = (
    "list_name",
    "entry_id",
    "address_id",
    "address",
    "city_state",
    "country",
    "remarks",
    "source_url",
)

# Column layouts of OFAC's legacy "SDN" CSV files (no header row in the files).
SDN_FIELDS = (
    "ent_num",
    "sdn_name",
    "sdn_type",
    "program",
    "title",
    "call_sign",
    "vess_type",
    "tonnage",
    "grt",
    "vess_flag",
    "vess_owner",
    "remarks",
)
ALT_FIELDS = ("ent_num", "alt_num", "alt_type", "alt_name", "alt_remarks")
ADD_FIELDS = ("ent_num", "add_num", "address", "city_state", "country", "add_remarks")

OFAC_NULL = "-0-"
OFAC_ALT_TYPES = {"aka": "aka", "fka": "fka", "nka": "aka"}
UN_ALIAS_QUALITY = {"good": "aka", "a.k.a.": "aka", "": "aka", "low": "weak", "f.k.a.": "fka"}


class SanctionsFormatError(ValueError):
    """A sanctions file does not have the documented layout; the message says where."""


def _decode(body: bytes | str) -> str:
    if isinstance(body, str):
        return body
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252")


def _sha256(body: bytes | str) -> str:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return hashlib.sha256(data).hexdigest()


def _ofac_value(raw: str) -> str | None:
    value = raw.strip()
    return None if value in ("", OFAC_NULL) else value


def read_ofac_csv(
    body: bytes | str, fields: tuple[str, ...], file_label: str
) -> list[dict[str, Any]]:
    """Rows of one OFAC legacy CSV file as dicts keyed by ``fields``; '-0-' becomes None.

    The final line holding only the DOS end-of-file byte 0x1A is skipped. A row with the wrong
    number of columns or a non-numeric ent_num raises SanctionsFormatError naming the line.
    """
    text = _decode(body)
    rows: list[dict[str, Any]] = []
    for line_no, cells in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
        if not cells or (len(cells) == 1 and cells[0].strip() in ("", "\x1a")):
            continue
        if len(cells) != len(fields):
            raise SanctionsFormatError(
                f"{file_label} line {line_no}: expected {len(fields)} columns, got {len(cells)}"
            )
        row = {name: _ofac_value(cell) for name, cell in zip(fields, cells, strict=True)}
        if not (row["ent_num"] or "").isdigit():
            raise SanctionsFormatError(
                f"{file_label} line {line_no}: ent_num {cells[0]!r} is not a number"
            )
        rows.append(row)
    return rows


def _programs(raw: str | None) -> list[str]:
    # Several programs are written "IRAN] [SDGT] [IRGC" inside one field.
    if not raw:
        return []
    return [p.strip(" []") for p in raw.split("] [") if p.strip(" []")]


def _unique(values: Iterable[str | None]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        if value and value.strip():
            seen.setdefault(value.strip(), None)
    return list(seen)


def _country_codes(countries: list[str]) -> list[str]:
    return _unique(to_iso3(c) for c in countries)


def parse_ofac_addresses(add_body: bytes | str, source_url: str) -> list[dict[str, Any]]:
    """Address rows (ADDRESS_COLUMNS) from OFAC add.csv."""
    return [
        {
            "list_name": OFAC_SDN,
            "entry_id": row["ent_num"],
            "address_id": row["add_num"],
            "address": row["address"],
            "city_state": row["city_state"],
            "country": row["country"],
            "remarks": row["add_remarks"],
            "source_url": source_url,
        }
        for row in read_ofac_csv(add_body, ADD_FIELDS, "add.csv")
    ]


def parse_ofac_alt_names(alt_body: bytes | str, source_url: str) -> list[dict[str, Any]]:
    """Alias name rows (NAME_COLUMNS) from OFAC alt.csv: alt_type aka/fka/nka -> aka/fka/aka.

    An alt_type outside that set is kept with the name_type 'aka' only if it is empty;
    anything else raises, so a format change is noticed rather than silently mapped.
    """
    rows = []
    for row in read_ofac_csv(alt_body, ALT_FIELDS, "alt.csv"):
        if not row["alt_name"]:
            raise SanctionsFormatError(f"alt.csv alt_num {row['alt_num']}: empty alt_name")
        alt_type = (row["alt_type"] or "aka").strip().lower()
        if alt_type not in OFAC_ALT_TYPES:
            raise SanctionsFormatError(f"alt.csv alt_num {row['alt_num']}: alt_type {alt_type!r}")
        rows.append(
            {
                "list_name": OFAC_SDN,
                "entry_id": row["ent_num"],
                "name": row["alt_name"],
                "name_type": OFAC_ALT_TYPES[alt_type],
                "source_url": source_url,
            }
        )
    return rows


def parse_ofac(
    sdn_body: bytes | str,
    alt_body: bytes | str | None,
    add_body: bytes | str | None,
    *,
    sdn_url: str,
    alt_url: str = "",
    add_url: str = "",
    list_published: str | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(entries, names) for the OFAC SDN list from sdn.csv plus, when given, alt.csv and add.csv.

    entries: ENTRY_COLUMNS; ``countries`` come from the entry's add.csv rows; SDN_Type '-0-'
    (null) is an entity. names: NAME_COLUMNS, the SDN_Name as 'primary' plus every alt.csv
    name. Alias or address rows whose ent_num has no sdn.csv row raise SanctionsFormatError
    (the three files were not downloaded at the same moment).
    """
    sdn_rows = read_ofac_csv(sdn_body, SDN_FIELDS, "sdn.csv")
    aliases = parse_ofac_alt_names(alt_body, alt_url) if alt_body is not None else []
    addresses = parse_ofac_addresses(add_body, add_url) if add_body is not None else []
    known = {row["ent_num"] for row in sdn_rows}
    orphans = sorted({r["entry_id"] for r in aliases + addresses} - known, key=int)
    if orphans:
        raise SanctionsFormatError(
            f"alt/add rows refer to ent_num not in sdn.csv (files out of step): {orphans[:10]}"
        )
    countries_by_entry: dict[str, list[str]] = {}
    for address in addresses:
        countries_by_entry.setdefault(address["entry_id"], []).append(address["country"])
    sha = _sha256(sdn_body)
    entries, names = [], []
    for row in sdn_rows:
        if not row["sdn_name"]:
            raise SanctionsFormatError(f"sdn.csv ent_num {row['ent_num']}: empty SDN_Name")
        countries = _unique(countries_by_entry.get(row["ent_num"], []))
        entries.append(
            {
                "list_name": OFAC_SDN,
                "entry_id": row["ent_num"],
                "entity_type": (row["sdn_type"] or "entity").lower(),
                "primary_name": row["sdn_name"],
                "programs": _programs(row["program"]),
                "remarks": row["remarks"],
                "countries": countries,
                "country_codes": _country_codes(countries),
                "listed_on": None,
                "reference_number": None,
                "list_published": list_published,
                "source_url": sdn_url,
                "sha256": sha,
            }
        )
        names.append(
            {
                "list_name": OFAC_SDN,
                "entry_id": row["ent_num"],
                "name": row["sdn_name"],
                "name_type": "primary",
                "source_url": sdn_url,
            }
        )
    names.extend(aliases)
    return entries, names


def _text(element: etree._Element, path: str) -> str | None:
    value = element.findtext(path)
    if value is None:
        return None
    value = " ".join(value.split())
    return value or None


def _un_primary_name(record: etree._Element) -> str | None:
    parts = [
        _text(record, tag) for tag in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")
    ]
    joined = " ".join(p for p in parts if p)
    return joined or None


def _un_aliases(record: etree._Element, alias_tag: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for alias in record.iter(alias_tag):
        name = _text(alias, "ALIAS_NAME")
        if not name:
            continue  # the UN writes an empty <..._ALIAS> element when there is no alias
        quality = (_text(alias, "QUALITY") or "").lower()
        if quality not in UN_ALIAS_QUALITY:
            raise SanctionsFormatError(f"UN alias {name!r}: unknown QUALITY {quality!r}")
        out.append((name, UN_ALIAS_QUALITY[quality]))
    original = _text(record, "NAME_ORIGINAL_SCRIPT")
    if original:
        out.append((original, "aka"))
    return out


def _un_countries(record: etree._Element, address_tag: str) -> list[str]:
    values = [_text(v, ".") for v in record.iterfind("NATIONALITY/VALUE")]
    values += [_text(a, "COUNTRY") for a in record.iter(address_tag)]
    return _unique(values)


def parse_un_consolidated(
    body: bytes | str, source_url: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(entries, names) from the UN Security Council consolidated list XML.

    entry_id is the record's DATAID; ``reference_number`` (e.g. 'KPi.033'), ``listed_on``
    (LISTED_ON) and ``programs`` ([UN_LIST_TYPE]) are kept; ``list_published`` is the
    root's ``dateGenerated`` date. Alias QUALITY 'Low' becomes name_type 'weak', 'f.k.a.'
    becomes 'fka', everything else 'aka'; NAME_ORIGINAL_SCRIPT is an 'aka'.
    """
    data = body.encode("utf-8") if isinstance(body, str) else body
    try:
        root = etree.fromstring(
            data, parser=etree.XMLParser(resolve_entities=False, no_network=True)
        )
    except etree.XMLSyntaxError as exc:
        raise SanctionsFormatError(f"UN consolidated list is not well-formed XML: {exc}") from exc
    if root.tag != "CONSOLIDATED_LIST":
        raise SanctionsFormatError(f"root element is {root.tag!r}, not CONSOLIDATED_LIST")
    generated = root.get("dateGenerated")
    if not generated:
        raise SanctionsFormatError("CONSOLIDATED_LIST has no dateGenerated attribute")
    published = generated[:10]
    sha = _sha256(data)
    entries: list[dict[str, Any]] = []
    names: list[dict[str, Any]] = []
    kinds = (("INDIVIDUALS/INDIVIDUAL", "individual"), ("ENTITIES/ENTITY", "entity"))
    for path, entity_type in kinds:
        alias_tag = f"{entity_type.upper()}_ALIAS"
        address_tag = f"{entity_type.upper()}_ADDRESS"
        for record in root.iterfind(path):
            entry_id = _text(record, "DATAID")
            primary = _un_primary_name(record)
            if not entry_id or not primary:
                raise SanctionsFormatError(
                    f"UN {entity_type} record without DATAID or name (DATAID={entry_id!r})"
                )
            countries = _un_countries(record, address_tag)
            entries.append(
                {
                    "list_name": UN_SC,
                    "entry_id": entry_id,
                    "entity_type": entity_type,
                    "primary_name": primary,
                    "programs": _unique([_text(record, "UN_LIST_TYPE")]),
                    "remarks": _text(record, "COMMENTS1"),
                    "countries": countries,
                    "country_codes": _country_codes(countries),
                    "listed_on": _text(record, "LISTED_ON"),
                    "reference_number": _text(record, "REFERENCE_NUMBER"),
                    "list_published": published,
                    "source_url": source_url,
                    "sha256": sha,
                }
            )
            names.append(
                {
                    "list_name": UN_SC,
                    "entry_id": entry_id,
                    "name": primary,
                    "name_type": "primary",
                    "source_url": source_url,
                }
            )
            for alias, name_type in _un_aliases(record, alias_tag):
                names.append(
                    {
                        "list_name": UN_SC,
                        "entry_id": entry_id,
                        "name": alias,
                        "name_type": name_type,
                        "source_url": source_url,
                    }
                )
    return entries, names


def ofac_list_published(response: Answer, configured: str | None = None) -> tuple[str, str]:
    """(publication date YYYY-MM-DD, basis) for an OFAC CSV, which carries no date itself.

    Order: the date pinned in config ('config'), else the response's Last-Modified header
    ('last_modified', the server's timestamp of the file), else the fetch date ('fetched_at').
    """
    if configured:
        return configured, "config"
    header = response.headers.get("Last-Modified") or response.headers.get("last-modified")
    if header:
        try:
            return parsedate_to_datetime(header).date().isoformat(), "last_modified"
        except (TypeError, ValueError):
            pass  # malformed header: fall through to the fetch date
    return response.fetched_at.date().isoformat(), "fetched_at"
