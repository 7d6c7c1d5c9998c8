"""Reading .xlsx payloads, for every source that gets one: python-calamine (a Rust reader;
7x faster than openpyxl on the 2.6 MB World Bank WGI workbook)."""

from __future__ import annotations

import io
from typing import Any


class XlsxError(ValueError):
    """The payload is not a readable .xlsx workbook."""


def sheets(body: bytes) -> list[list[list[Any]]]:
    """Every sheet's rows of cell values (numbers as float, text as str); an empty cell is
    None. Rows start at the sheet's first row, empty rows included."""
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(body))
        return [
            [
                [None if value == "" else value for value in row]
                for row in workbook.get_sheet_by_index(i).to_python(skip_empty_area=False)
            ]
            for i in range(len(workbook.sheet_names))
        ]
    except Exception as exc:  # calamine raises its own error types for a bad file
        raise XlsxError(f"not an xlsx workbook: {exc}") from exc
