"""Identifier checks shared by the registry, resolution and validation."""

from __future__ import annotations

import re

_LEI_SHAPE = re.compile(r"^[0-9A-Z]{18}[0-9]{2}$")


def lei_checksum_ok(lei: str) -> bool:
    """ISO 17442: 20 characters, the last two check digits, ISO 7064 MOD 97-10 == 1."""
    if not _LEI_SHAPE.match(lei or ""):
        return False
    digits = "".join(str(int(ch, 36)) for ch in lei)
    return int(digits) % 97 == 1


def normalise_cik(value: str | int) -> str:
    """SEC Central Index Key as the 10-digit zero-padded string the EDGAR APIs use."""
    text = str(value).strip()
    if not text.isdigit() or len(text) > 10 or int(text) == 0:
        raise ValueError(f"CIK must be 1 to 10 digits, got {value!r}")
    return text.zfill(10)
