-- World Bank Worldwide Governance Indicators: every country, dimension and year.
create table if not exists raw.worldbank__wgi (
    wb_code varchar,
    country_name varchar,
    iso3 varchar,
    country_kind varchar,
    year integer,
    indicator varchar,
    estimate double,
    stddev double,
    nsource double,
    pctrank double,
    pctrank_lower double,
    pctrank_upper double,
    source_url varchar not null,
    payload_sha256 varchar not null,
    fetched_at timestamptz not null
);
