"""N synthetic partners derived from the real recorded payloads, served on loopback.

Partner i gets its own valid LEI (ISO 17442 check digits) and SEC CIK. Its GLEIF record is one
of the real recorded records (in turn), its level-2 answers are Shell's real reporting
exceptions and Fraport's real children page, and its SEC submissions and company facts are
Snowflake's real files (2.5 MB of facts); in every body the original LEI or CIK is rewritten
to the partner's, so partners neither collapse onto one key nor share a payload hash. The
whole-dataset sources (WGI workbook, OFAC and UN lists, SEC tickers) are the demo's files.

Nothing is written per partner: pattern routes render each body on request.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from connectors.config import PROJECT_ROOT, for_every_source, load_settings
from connectors.gleif.parse import parse_lei_records
from connectors.replay import CollectionRoute, PatternRoute, ReplayServer, Route

SNAPSHOT = PROJECT_ROOT / "demo" / "snapshot"
LEI_PREFIX = "BNCH00"  # 4-character LOU prefix plus the reserved "00"; no LOU uses BNCH
CIK_BASE = 9_000_000_000  # far above any CIK the SEC has issued (about 2.1 million)
SEC_CIK = "0001640147"  # Snowflake: the 2.5 MB company facts
EXCEPTIONS_LEI = "21380068P1DRHMJ8KU70"  # Shell: both parent levels answered by an exception
CHILDREN_LEI = "5299001ERX0K10IZUL40"  # Fraport: one page of two children
JSON_API = "application/vnd.api+json"
Render = Callable[[dict[str, str]], bytes | None]


def lei_check_digits(base18: str) -> str:
    """ISO 7064 MOD 97-10 check digits for the first 18 characters of an LEI."""
    digits = "".join(str(int(ch, 36)) for ch in base18 + "00")
    return f"{98 - int(digits) % 97:02d}"


def synthetic_lei(index: int) -> str:
    base = f"{LEI_PREFIX}{index:012d}"
    return base + lei_check_digits(base)


def synthetic_cik(index: int) -> str:
    return str(CIK_BASE + index)


@dataclass(frozen=True)
class GleifTemplate:
    lei: str
    body: bytes
    legal_name: str
    country: str

    @classmethod
    def read(cls, path: Path) -> GleifTemplate:
        body = path.read_bytes()
        record = parse_lei_records(body)[0]
        return cls(record["lei"], body, record["legal_name"], record["legal_address_country"])


def _snapshot_file(relative: str) -> bytes:
    path = SNAPSHOT / relative
    if not path.exists():
        raise FileNotFoundError(f"benchmark payload {path} is missing from the demo snapshot")
    return path.read_bytes()


class SyntheticPartners:
    """Registry rows and replay routes for partners 0 .. n-1."""

    def __init__(self, n: int) -> None:
        self.n = n
        # Partners whose company facts changed upstream (a restated name): a nightly with
        # some of the registry changed.
        self.changed: set[int] = set()
        self.gleif = [
            GleifTemplate.read(p) for p in sorted((SNAPSHOT / "gleif").glob("single_lei_record_*"))
        ]
        if not self.gleif:
            raise FileNotFoundError(f"no GLEIF records in {SNAPSHOT / 'gleif'}")
        self.direct_exception = _snapshot_file(
            f"gleif/direct-parent-reporting-exception_{EXCEPTIONS_LEI}.json"
        )
        self.ultimate_exception = _snapshot_file(
            f"gleif/ultimate-parent-reporting-exception_{EXCEPTIONS_LEI}.json"
        )
        self.children = _snapshot_file(f"gleif/direct-children_{CHILDREN_LEI}.json")
        self.companyfacts = _snapshot_file(f"sec/companyfacts_CIK{SEC_CIK}_SNOW.json")
        self.submissions = _snapshot_file(f"sec/submissions_CIK{SEC_CIK}_SNOW_20250802.json")

    # ------------------------------------------------------------------ identities

    def index_of_lei(self, lei: str) -> int | None:
        if not lei.startswith(LEI_PREFIX) or not lei[6:18].isdigit():
            return None
        index = int(lei[6:18])
        return index if index < self.n and synthetic_lei(index) == lei else None

    def index_of_cik(self, cik: str) -> int | None:
        index = int(cik) - CIK_BASE
        return index if 0 <= index < self.n else None

    def template(self, index: int) -> GleifTemplate:
        return self.gleif[index % len(self.gleif)]

    def registry_rows(self) -> list[dict[str, str]]:
        rows = []
        for i in range(self.n):
            template = self.template(i)
            rows.append(
                {
                    "partner_id": f"bench-{i:05d}",
                    "name": f"{template.legal_name} {i:05d}",
                    "website": "",
                    "country": template.country,
                    "lei": synthetic_lei(i),
                    "cik": synthetic_cik(i),
                }
            )
        return rows

    def write_registry(self, path: Path) -> Path:
        rows = self.registry_rows()
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        return path

    # ------------------------------------------------------------------ bodies

    def lei_record(self, lei: str) -> bytes | None:
        index = self.index_of_lei(lei)
        if index is None:
            return None
        template = self.template(index)
        return template.body.replace(template.lei.encode(), lei.encode())

    def _by_lei(self, body: bytes, original: str) -> Render:
        def render(groups: dict[str, str]) -> bytes | None:
            lei = groups["lei"]
            if self.index_of_lei(lei) is None:
                return None
            return body.replace(original.encode(), lei.encode())

        return render

    def _by_cik(self, body: bytes, member: str, original: str) -> Render:
        """Rewrite only the top-level cik member (its first occurrence, ``member`` with the
        template's ``original`` CIK); accession numbers further down keep the filer agent's
        CIK, as real filings do. Synthetic CIKs have 10 digits, padded or not."""
        old = member.format(original).encode()
        if old not in body:
            raise ValueError(f"template has no {old!r}")

        def render(groups: dict[str, str]) -> bytes | None:
            cik = groups["cik"]
            index = self.index_of_cik(cik)
            if index is None:
                return None
            rendered = body.replace(old, member.format(cik).encode(), 1)
            if index in self.changed:
                rendered = rendered.replace(RESTATED[0], RESTATED[1], 1)
            return rendered

        return render

    def routes(self) -> list[Route]:
        lei = r"(?P<lei>[0-9A-Z]{20})"
        cik = r"CIK(?P<cik>\d{10})\.json"
        level2 = {
            "direct-parent-reporting-exception": (self.direct_exception, EXCEPTIONS_LEI),
            "ultimate-parent-reporting-exception": (self.ultimate_exception, EXCEPTIONS_LEI),
            "direct-children": (self.children, CHILDREN_LEI),
        }
        routes: list[Route] = [
            PatternRoute(
                path=f"/gleif/lei-records/{lei}",
                render=lambda g: self.lei_record(g["lei"]),
                content_type=JSON_API,
            )
        ]
        # ?filter[lei]=A,B,...: a page of the records above (connectors.replay)
        routes.append(
            CollectionRoute(
                path="/gleif/lei-records",
                param="filter[lei]",
                item="/gleif/lei-records/{}",
                content_type=JSON_API,
            )
        )
        routes += [
            PatternRoute(
                path=f"/gleif/lei-records/{lei}/{endpoint}",
                render=self._by_lei(body, original),
                content_type=JSON_API,
            )
            for endpoint, (body, original) in level2.items()
        ]
        sec = {
            f"/sec/submissions/{cik}": self._by_cik(self.submissions, '"cik": "{}"', SEC_CIK),
            f"/sec/api/xbrl/companyfacts/{cik}": self._by_cik(
                self.companyfacts, '"cik": {}', SEC_CIK.lstrip("0")
            ),
        }
        routes += [
            PatternRoute(path=path, render=render, content_type="application/json")
            for path, render in sec.items()
        ]
        return routes


# What a changed partner's company facts say instead (benchmarks.scale's 1 % night).
RESTATED = (b'"entityName": "SNOWFLAKE INC."', b'"entityName": "SNOWFLAKE INC. (RESTATED)"')

# Whole-dataset sources: the demo's recorded files under paths of our own.
DATASETS = {
    "/worldbank/wgidataset.xlsx": (
        "worldbank/wgidataset_2024release.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "/sanctions/ofac/sdn.csv": ("sanctions/ofac_sdn_subset_2021.csv", "text/csv"),
    "/sanctions/ofac/alt.csv": ("sanctions/ofac_alt_subset_2021.csv", "text/csv"),
    "/sanctions/ofac/add.csv": ("sanctions/ofac_add_subset_2021.csv", "text/csv"),
    "/sanctions/un/consolidated.xml": (
        "sanctions/un_sc_consolidated_20181029.xml",
        "application/xml",
    ),
    "/sec/files/company_tickers.json": ("sec/company_tickers_trimmed.json", "application/json"),
}


def dataset_routes() -> list[Route]:
    return [
        Route(path=path, body=_snapshot_file(file), content_type=content_type)
        for path, (file, content_type) in DATASETS.items()
    ]


def source_env(base_url: str) -> dict[str, str]:
    """Configuration (PARTNERDD_* variables over the sources' declared defaults) for a live
    refresh against the replay server: every rate limit lifted, web and news offline as in the demo,
    the country indices skipped (the demo bundles none of their files). Every configured URL
    points at the replay server, so nothing can leave loopback (unserved paths answer 404)."""
    env: dict[str, str] = for_every_source("rate_per_second", "0")
    for name, section in load_settings({}).sources.items():
        prefix = f"PARTNERDD_{name.upper()}_"
        for key in section:
            if key == "url" or key.endswith("_url"):
                env[prefix + key.upper()] = f"{base_url}/unserved/{name}/{key}"
    env.update(
        {
            "PARTNERDD_ALLOW_HOSTS": "127.0.0.1",
            "PARTNERDD_GLEIF_URL": f"{base_url}/gleif",
            "PARTNERDD_SEC_URL": f"{base_url}/sec",
            "PARTNERDD_SEC_TICKERS_URL": f"{base_url}/sec/files/company_tickers.json",
            "PARTNERDD_SEC_CONTACT": "partnerdd scale benchmark",
            "PARTNERDD_WORLDBANK_MODE": "bulk",
            "PARTNERDD_WORLDBANK_BULK_URL": f"{base_url}/worldbank/wgidataset.xlsx",
            "PARTNERDD_SANCTIONS_OFAC_SDN_URL": f"{base_url}/sanctions/ofac/sdn.csv",
            "PARTNERDD_SANCTIONS_OFAC_ALT_URL": f"{base_url}/sanctions/ofac/alt.csv",
            "PARTNERDD_SANCTIONS_OFAC_ADD_URL": f"{base_url}/sanctions/ofac/add.csv",
            "PARTNERDD_SANCTIONS_UN_SC_URL": f"{base_url}/sanctions/un/consolidated.xml",
            "PARTNERDD_SANCTIONS_OFAC_PUBLISHED": "2021-04-01",  # see the snapshot's PROVENANCE
            "PARTNERDD_INDICES_OFFLINE_SKIP": "cpi,hofstede,heritage",
            "PARTNERDD_WEB_OFFLINE": "1",
            "PARTNERDD_NEWS_OFFLINE": "1",
        }
    )
    return env


def replay_server(
    partners: SyntheticPartners,
    latency: float = 0.0,
    rate_limits: dict[str, float] | None = None,
) -> ReplayServer:
    """Not started: use as a context manager (latency and rate limits: connectors.replay)."""
    return ReplayServer(
        routes=[*partners.routes(), *dataset_routes()], latency=latency, rate_limits=rate_limits
    )
