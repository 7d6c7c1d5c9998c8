"""The generated dossier and portfolio page in a real headless Chromium (Debian's package):
screenshots, key sections and charts in the rendered DOM, and the <script> planted in a
scraped page title rendered as text. Under CI=true a missing browser fails the test."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.portfolio import write_site
from tests.dossier.conftest import PLANTED

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SECTIONS = (
    "summary",
    "identity",
    "size",
    "country",
    "fit",
    "media",
    "sanctions",
    "freshness",
    "launch-questions",
    "agreement",
)


def _chromium() -> str:
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if found is None:
        message = "Debian's chromium is not installed (apt-get install -y chromium; .ci/run does)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def _browse(page: Path, tmp: Path, screenshot: Path) -> str:
    """The DOM after Chromium loaded `page`, and a full-page screenshot of it."""
    browser = _chromium()
    profile = tmp / f"profile-{screenshot.stem}"
    base = [browser, *FLAGS, f"--user-data-dir={profile}", "--window-size=1200,3000"]
    shot = subprocess.run(
        [*base, f"--screenshot={screenshot}", page.as_uri()],
        capture_output=True,
        timeout=180,
        check=False,
    )
    assert shot.returncode == 0, shot.stderr.decode(errors="replace")[-2000:]
    dom = subprocess.run(
        [*base, "--dump-dom", page.as_uri()], capture_output=True, timeout=180, check=False
    )
    assert dom.returncode == 0, dom.stderr.decode(errors="replace")[-2000:]
    return dom.stdout.decode("utf-8")


@pytest.fixture(scope="module")
def site(refreshed: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    with duckdb.connect(str(refreshed["db"]), read_only=True) as con:
        return write_site(con, out)


def test_dossier_in_chromium_shows_sections_charts_and_planted_script_as_text(
    site: Path, tmp_path: Path
) -> None:
    screenshot = tmp_path / "dossier-planted.png"
    dom = _browse(site.parent / "dossier-planted.html", tmp_path, screenshot)
    assert (
        screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 20_000
    )
    for section in SECTIONS:
        assert f'id="{section}"' in dom, section
    for chart in ("chart-governance", "chart-culture", "chart-fit"):
        assert f'class="chart {chart}"' in dom, chart
    assert dom.count('class="bar"') > 10  # the charts have bars, not just frames
    # the scraped title arrived, as text: escaped in the DOM, never a script element
    assert "Planted Manufacturing &lt;script&gt;" in dom
    assert PLANTED.replace("'", "&#39;") in dom or PLANTED in dom
    assert "<script" not in dom.lower()
    assert "data-pwned" not in dom.split("<body", 1)[0]  # the planted code never ran
    assert "Complementary skills" in dom and "capabilities the home company seeks" in dom


def test_portfolio_page_in_chromium_ranks_every_partner_with_links(
    site: Path, tmp_path: Path
) -> None:
    screenshot = tmp_path / "portfolio.png"
    dom = _browse(site, tmp_path, screenshot)
    assert screenshot.stat().st_size > 20_000
    assert 'class="chart chart-portfolio"' in dom
    rows = dom.count('class="partner-row"')
    assert rows == 11  # the nine demo partners, planted and markup
    for page in sorted(site.parent.glob("dossier-*.html")):
        assert f'href="{page.name}"' in dom
    assert "Markup &lt;b&gt;Bold&lt;/b&gt;" in dom and "<b>Bold</b>" not in dom
    assert "<script" not in dom.lower()
