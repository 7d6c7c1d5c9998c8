"""`pip install .` (not -e) into a fresh virtualenv works from any directory: the SQL
models, checks, default config and demo snapshot ship with the package."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

from connectors.config import PROJECT_ROOT

CHECK = """
import duckdb
from connectors.config import resource_dir, load_settings
from flows.checks import load_checks
from flows.db import apply_schema
from flows.home import load_home
from flows.models import MARTS, STAGING
from flows.offline import DEMO_PARTNERS
from flows.registry import read_registry
from flows.validate import EXPECTATIONS_DIR

assert "share" in str(resource_dir("sql")), resource_dir("sql")
con = duckdb.connect()
apply_schema(con)
checks = load_checks(EXPECTATIONS_DIR)
assert {m.name for m in (*STAGING, *MARTS)} <= set(checks)
assert all(m.inputs for m in (*STAGING, *MARTS))
partners, issues = read_registry(DEMO_PARTNERS)
assert len(partners) == 9 and not issues
assert load_settings().source_url("gleif").startswith("https://")
print("home", load_home().country_iso3)
"""


def test_a_wheel_installs_and_finds_its_data_from_any_directory(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(PROJECT_ROOT),
            "--no-deps",
            "-q",
            "-w",
            str(wheels),
        ],
        check=True,
        capture_output=True,
    )
    env_dir = tmp_path / "venv"
    venv.create(env_dir)  # without its own pip (ensurepip costs 5-10 s): this pip installs into it
    site = next(env_dir.glob("lib/python*/site-packages"))
    python = env_dir / "bin" / "python"
    wheel = next(wheels.glob("partnerdd-*.whl"))
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run(  # noqa: S603 (away from the checkout, whose egg-info pip would take)
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "-q",
            str(wheel),
        ],
        cwd=tmp_path,
        env=clean,
        check=True,
        capture_output=True,
    )
    # The dependencies come from this environment (added after the install, so pip does not
    # take this checkout's editable install for partnerdd); partnerdd only from the wheel.
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run(  # noqa: S603
        [str(python), "-c", CHECK],
        cwd=elsewhere,
        env=clean,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "home DEU" in result.stdout
    found = subprocess.run(  # noqa: S603
        [str(python), "-c", "import flows; print(flows.__file__)"],
        cwd=elsewhere,
        env=clean,
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(site) in found.stdout  # the installed copy, not the checkout
