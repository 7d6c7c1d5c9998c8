"""SEC Central Index Keys: always handled as 10-digit zero-padded strings."""

from __future__ import annotations

CIK_DIGITS = 10


def normalise_cik(value: str | int) -> str:
    """'320193', 320193 or 'CIK0000320193' -> '0000320193'.

    Raises ValueError for anything that is not 1-10 digits (after an optional 'CIK' prefix)
    or is zero.
    """
    if isinstance(value, bool):
        raise ValueError(f"CIK must be digits, got {value!r}")
    if isinstance(value, int):
        if value <= 0:
            raise ValueError(f"CIK must be a positive number, got {value!r}")
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
        if text[:3].upper() == "CIK":
            text = text[3:]
    else:
        raise ValueError(f"CIK must be a string or int, got {type(value).__name__}")
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"CIK must be digits only, got {value!r}")
    if len(text) > CIK_DIGITS:
        raise ValueError(f"CIK has more than {CIK_DIGITS} digits: {value!r}")
    if int(text) == 0:
        raise ValueError(f"CIK must not be zero: {value!r}")
    return text.zfill(CIK_DIGITS)
