create table if not exists raw.indices__values (
    iso3 varchar,
    index_name varchar not null,
    dimension varchar not null,
    year integer,
    value double,
    source varchar not null,
    raw_country varchar,
    derived_from varchar,
    source_url varchar not null,
    payload_sha256 varchar not null,
    fetched_at timestamptz not null
);

-- rows of the publishers' files that are not country values: aggregates, unknown names,
-- text where a number belongs. Reported, never silently dropped.
create table if not exists raw.indices__issues (
    source varchar not null,
    kind varchar not null,
    raw_country varchar,
    raw_code varchar,
    column_name varchar,
    raw_value varchar,
    reason varchar,
    line integer,
    source_url varchar not null,
    payload_sha256 varchar not null,
    fetched_at timestamptz not null
);
