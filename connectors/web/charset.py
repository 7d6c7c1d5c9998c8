"""Decode fetched bytes: BOM, then HTTP charset, then <meta charset>/XML declaration, then sniffing.

Labels follow the WHATWG Encoding Standard where Python differs: latin-1/ascii mean windows-1252,
gb2312/gbk mean gb18030, and so on, because that is what browsers (and publishers) assume.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

SNIFF_BYTES = 4096
SNIFF_CHAOS_TOLERANCE = 0.01
BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
WHATWG_ALIASES = {
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "windows-1252": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "shift_jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "euc-kr": "cp949",
    "iso-8859-9": "cp1254",
    "tis-620": "cp874",
    "utf8": "utf-8",
}
_HEADER_CHARSET = re.compile(rb"""charset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)""", re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)""", re.I)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._:\-]+)["']""", re.I)


class BadEncoding(ValueError):
    """No candidate charset decodes the bytes; the message lists what was tried."""


@dataclass(frozen=True)
class DecodedText:
    text: str
    charset: str
    charset_source: str  # bom | header | meta | xml_declaration | sniffed | utf-8 default


def normalise_charset(label: str) -> str | None:
    """Python codec name for a charset label (WHATWG aliases applied) or None if unknown."""
    clean = label.strip().strip("\"'").lower()
    clean = WHATWG_ALIASES.get(clean, clean)
    try:
        return codecs.lookup(clean).name
    except LookupError:
        return None


def header_charset(content_type: str) -> str | None:
    match = _HEADER_CHARSET.search(content_type.encode("latin-1", "replace"))
    return match.group(1).decode("ascii") if match else None


def declared_charset(body: bytes) -> tuple[str, str] | None:
    """(label, 'xml_declaration'|'meta') found in the first bytes of the document."""
    head = body[:SNIFF_BYTES]
    xml = _XML_DECL.search(head)
    if xml:
        return xml.group(1).decode("ascii"), "xml_declaration"
    meta = _META_CHARSET.search(head)
    if meta:
        return meta.group(1).decode("ascii"), "meta"
    return None


def _try(body: bytes, label: str) -> str | None:
    codec = normalise_charset(label)
    if codec is None:
        return None
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def sniff_charset(body: bytes) -> str | None:
    """charset-normalizer's guess; among equally clean guesses prefer windows-1252, the web's
    legacy default (short Latin-1 texts otherwise come out as cp1257 or cp1250 mojibake)."""
    matches = list(from_bytes(body))
    if not matches:
        return None
    best_chaos = min(m.chaos for m in matches)
    clean = [m for m in matches if m.chaos <= best_chaos + SNIFF_CHAOS_TOLERANCE]
    for match in clean:
        if "cp1252" in match.could_be_from_charset:
            return "cp1252"
    return normalise_charset(clean[0].encoding) or clean[0].encoding


def decode_body(body: bytes, content_type: str = "") -> DecodedText:
    """Decode body; raise BadEncoding when nothing fits (never returns mojibake silently)."""
    tried: list[str] = []
    for bom, codec in BOMS:
        if body.startswith(bom):
            text = _try(body[len(bom) :], codec)
            if text is not None:
                return DecodedText(text, codec, "bom")
            tried.append(f"bom:{codec}")
    candidates: list[tuple[str, str]] = []
    from_header = header_charset(content_type)
    if from_header:
        candidates.append((from_header, "header"))
    declared = declared_charset(body)
    if declared:
        candidates.append(declared)
    for label, where in candidates:
        text = _try(body, label)
        if text is not None:
            return DecodedText(text, normalise_charset(label) or label, where)
        tried.append(f"{where}:{label}")
    text = _try(body, "utf-8")
    if text is not None:
        return DecodedText(text, "utf-8", "utf-8 default")
    tried.append("utf-8")
    sniffed = sniff_charset(body)
    if sniffed is not None:
        text = _try(body, sniffed)
        if text is not None:
            return DecodedText(text, sniffed, "sniffed")
        tried.append(f"sniffed:{sniffed}")
    raise BadEncoding("cannot decode body; tried " + ", ".join(tried))
