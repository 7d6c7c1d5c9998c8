"""Settings have one default, declared with each source; a user's sources.toml changes only
what it names, a setting no source declares is refused, and PARTNERDD_* wins over both."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.config import ConfigError, load_settings
from connectors.gleif.source import SPEC as GLEIF
from connectors.source import declared_sources

BUDGET = {"time_budget_seconds": 3600.0}  # config/sources.toml [http], for a source without one


def test_defaults_are_the_declarations() -> None:
    settings = load_settings({})
    assert settings.source("gleif") == {**GLEIF.config["gleif"], **BUDGET}
    assert settings.http["retries"] == 3  # config/sources.toml [http]


def test_a_users_file_overrides_only_what_it_names(tmp_path: Path) -> None:
    (tmp_path / "sources.toml").write_text("[sources.gleif]\nrate_per_second = 2.0\n")
    settings = load_settings({"PARTNERDD_CONFIG": str(tmp_path)})
    assert settings.source("gleif") == {**GLEIF.config["gleif"], **BUDGET, "rate_per_second": 2.0}
    assert settings.http == load_settings({}).http
    env = {"PARTNERDD_CONFIG": str(tmp_path), "PARTNERDD_GLEIF_RATE_PER_SECOND": "0.5"}
    assert load_settings(env).source("gleif")["rate_per_second"] == 0.5


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[sources.gleif]\nrate_per_secnd = 2.0\n", r"\[sources.gleif\] rate_per_secnd is not"),
        ("[sources.nope]\nurl = 'x'\n", r"known: none: no such source"),
    ],
)
def test_a_setting_no_source_declares_is_refused(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "sources.toml").write_text(toml)
    with pytest.raises(ConfigError, match=message):
        load_settings({"PARTNERDD_CONFIG": str(tmp_path)})


def test_every_source_has_a_time_budget_its_own_else_the_global_one(tmp_path: Path) -> None:
    """[http] time_budget_seconds for a source that declares none (resolution declares its
    own); [sources.<source>] or PARTNERDD_<SOURCE>_TIME_BUDGET_SECONDS for one source, and
    PARTNERDD_TIME_BUDGET_SECONDS for every source without its own."""
    budget = "time_budget_seconds"
    settings = load_settings({})
    assert {s.name for s in declared_sources()} <= set(settings.sources)
    assert settings.source("sec")[budget] == settings.http[budget] == 3600.0
    assert settings.source("resolution")[budget] == 1800.0
    (tmp_path / "sources.toml").write_text("[sources.news]\ntime_budget_seconds = 900\n")
    env = {
        "PARTNERDD_CONFIG": str(tmp_path),
        "PARTNERDD_TIME_BUDGET_SECONDS": "600",
        "PARTNERDD_SEC_TIME_BUDGET_SECONDS": "2.5",
    }
    settings = load_settings(env)
    assert settings.source("news")[budget] == 900.0
    assert settings.source("sec")[budget] == 2.5
    assert settings.source("gleif")[budget] == 600.0
    assert settings.source("resolution")[budget] == 1800.0
