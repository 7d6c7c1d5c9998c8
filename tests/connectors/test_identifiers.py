import duckdb
import pytest

from connectors.identifiers import lei_checksum_ok, normalise_cik
from flows.db import apply_schema

REAL_LEIS = [
    "529900D6BF99LW9R2E68",
    "INR2EJN1ERAN0W5ZP974",
    "21380068P1DRHMJ8KU70",
    "529900GRZ2BQY5ZM9N49",
    "5299001ERX0K10IZUL40",
    "335800CCCPHKUOXPC332",
    "549300YX4S1LLSMK2627",
    "HWUPKR0MPOU8FGXBT394",
]


@pytest.mark.parametrize("lei", REAL_LEIS)
def test_real_leis_pass_and_every_single_digit_change_fails(lei: str) -> None:
    assert lei_checksum_ok(lei)
    last = int(lei[-1])
    assert not lei_checksum_ok(lei[:-1] + str((last + 1) % 10))


def test_malformed_leis_fail() -> None:
    for value in ["", "529900D6BF99LW9R2E6", "529900d6bf99lw9r2e68", "529900D6BF99LW9R2EAB"]:
        assert not lei_checksum_ok(value)


def test_sql_macro_agrees_with_python() -> None:
    con = duckdb.connect()
    apply_schema(con)
    candidates = REAL_LEIS + [lei[:-2] + "00" for lei in REAL_LEIS] + ["x", "1" * 20]
    for lei in candidates:
        (ok,) = con.execute("select lei_check_ok(?)", [lei]).fetchone()
        assert ok == lei_checksum_ok(lei), lei


def test_cik_is_zero_padded_and_checked() -> None:
    assert normalise_cik(789019) == "0000789019"
    assert normalise_cik("0001000184") == "0001000184"
    for bad in ["12a", "12345678901", "0", ""]:
        with pytest.raises(ValueError):
            normalise_cik(bad)
