"""`partnerdd sql` on a database written by the real publish step: read-only for real."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import warnings
from pathlib import Path

import duckdb
import pytest

from flows.cli import main
from flows.db import apply_schema, publish

FORMULAS = ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A published file as a refresh writes it (macros of schema.sql and a view included),
    with scraped text that a spreadsheet would run as formulas."""
    work = tmp_path_factory.mktemp("analyst")
    db = work / "pub.duckdb"
    with duckdb.connect(str(work / "work.duckdb")) as con:
        apply_schema(con)
        con.execute("create table marts.notes (partner_id varchar, note varchar, n integer)")
        con.executemany(
            "insert into marts.notes values (?, ?, ?)",
            [[f"p{i}", text, -i] for i, text in enumerate(FORMULAS)] + [["sap", "plain", 7]],
        )
        publish(
            con,
            db,
            {"marts.lei_ok": "select lei_check_ok('529900D6BF99LW9R2E68') as ok"},
        )
    (work / "secret.csv").write_text("token\nhunter2\n", encoding="utf-8")
    return db


def _sql(db: Path, query: str, *extra: str) -> int:
    return main(["sql", query, "--db", str(db), *extra])


def test_views_and_macros_of_the_published_file_still_work(
    published: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    query = "select ok, lei_check_ok('529900D6BF99LW9R2E69') as bad from marts.lei_ok"
    assert _sql(published, query, "--format", "csv") == 0
    assert capsys.readouterr().out.splitlines() == ["ok,bad", "True,False"]


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("copy to a file", "copy marts.notes to '{dir}/out.csv'"),
        ("copy over the database", "copy marts.notes to '{db}'"),
        ("export database", "export database '{dir}/export'"),
        ("attach writable", "attach '{dir}/other.duckdb' as other"),
        ("install", "install httpfs"),
        ("load", "load httpfs"),
        ("read a local file", "select * from read_csv('{dir}/secret.csv')"),
        ("read /etc/passwd", "select * from read_csv('/etc/passwd')"),
        ("read the environment", "select * from read_text('/proc/self/environ')"),
        ("list files", "select * from glob('/etc/*')"),
        ("unlock the configuration", "set enable_external_access = true"),
        ("write the database", "delete from marts.notes"),
    ],
)
def test_refused(
    published: Path, capsys: pytest.CaptureFixture[str], name: str, query: str
) -> None:
    before = published.read_bytes()
    text = query.format(dir=published.parent, db=published)
    assert _sql(published, text) == 1, name
    error = " ".join(capsys.readouterr().err.split())  # rich wraps long lines
    assert "SQL error" in error
    assert any(
        reason in error
        for reason in (
            "disabled by configuration",
            "disabled through configuration",
            "configuration has been locked",
            "read-only",
        )
    ), error
    assert published.read_bytes() == before
    assert {p.name for p in published.parent.iterdir()} == {
        "pub.duckdb",
        "work.duckdb",
        "secret.csv",
    }


def test_every_statement_of_a_script_is_shown(
    published: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = "select 1 as a; select partner_id from marts.notes where n = 7;"
    assert _sql(published, script, "--format", "csv") == 0
    assert capsys.readouterr().out.splitlines() == ["a", "1", "", "partner_id", "sap"]
    assert _sql(published, script) == 0
    out = capsys.readouterr().out
    assert "select 1 as a;" in out and "sap" in out  # each table under its statement


def test_a_failing_statement_stops_the_script_after_the_results_before_it(
    published: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = "select 42 as answer; copy marts.notes to '/tmp/x.csv'; select 43"
    assert _sql(published, script, "--format", "csv") == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["answer", "42"]
    assert "disabled by configuration" in captured.err


def test_csv_export_neutralises_spreadsheet_formulas(
    published: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "notes.csv"
    query = 'select note, n, note as "=cmd" from marts.notes order by partner_id'
    assert _sql(published, query, "--format", "csv", "--out", str(out)) == 0
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8"), newline="")))
    assert rows[0] == ["note", "n", "'=cmd"]
    by_note = {r[0]: r for r in rows[1:]}
    for text in FORMULAS:
        assert ("'" + text) in by_note, text  # shown as text, never evaluated
    assert by_note['\'=HYPERLINK("http://x")'][1] == "0"
    assert by_note["plain"][1] == "7"
    assert [r[1] for r in rows[1:]].count("-1") == 1  # numbers stay numbers
    assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for r in rows for cell in r)


def _cells_in_a_spreadsheet(path: Path, tmp: Path) -> list[tuple[object, str]]:
    """Every cell as (value, type) after a real spreadsheet (Gnumeric) opened the CSV;
    type 'f' is a formula."""
    ssconvert = shutil.which("ssconvert")
    if ssconvert is None:
        message = (
            "Gnumeric's ssconvert is not installed (apt-get install -y gnumeric; .ci/run does)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    import openpyxl

    book = tmp / f"{path.stem}.xlsx"
    subprocess.run([ssconvert, str(path), str(book)], check=True, capture_output=True, timeout=120)
    with warnings.catch_warnings():  # "Workbook contains no default style"
        warnings.simplefilter("ignore", UserWarning)
        sheet = openpyxl.load_workbook(book).active
    assert sheet is not None
    return [(cell.value, cell.data_type) for row in sheet.iter_rows() for cell in row]


def test_hyperlink_formula_is_inert_in_a_spreadsheet(
    published: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    query = "select note from marts.notes where note like '=HYPERLINK%'"
    plain = tmp_path / "plain.csv"  # what a CSV export without neutralising would hold
    with duckdb.connect(str(published), read_only=True) as con:
        rows = con.execute(query).fetchall()
    with plain.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows([("note",), *rows])
    assert ('=HYPERLINK("http://x")', "f") in _cells_in_a_spreadsheet(plain, tmp_path)

    exported = tmp_path / "exported.csv"
    assert _sql(published, query, "--format", "csv", "--out", str(exported)) == 0
    cells = _cells_in_a_spreadsheet(exported, tmp_path)
    assert cells == [("note", "s"), ('=HYPERLINK("http://x")', "s")]  # text, not a formula
