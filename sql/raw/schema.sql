-- raw: payloads exactly as fetched (stored before parsing) and records as parsed from them.
-- staging/marts are rebuilt by the refresh; quarantine keeps rejected rows with reasons;
-- ops keeps the run log.
create schema if not exists raw;
create schema if not exists staging;
create schema if not exists marts;
create schema if not exists quarantine;
create schema if not exists ops;
create schema if not exists history;  -- flows/history.py: every mart fact with its validity

-- One row per HTTP answer in the raw store (bodies live in the store's payload files, by
-- sha256). kind says what the answer is, partner_id whom it is for (null: a dataset).
-- parsed_run_id: the run whose parse step consumed it (null: not parsed yet).
create table if not exists raw.responses (
    response_id varchar primary key,
    run_id varchar not null,
    source varchar not null,
    kind varchar not null,
    partner_id varchar,
    url varchar not null,
    status integer not null,
    headers json,
    sha256 varchar not null,
    size bigint,
    fetched_at timestamptz not null,
    meta json,
    parsed_run_id varchar
);

-- Rows an extract observed itself (a crawl's skipped page, an identifier decision), kept
-- until its source's parse step lands them.
create table if not exists raw.extract_records (
    run_id varchar not null,
    source varchar not null,
    partner_id varchar,
    table_name varchar not null,
    row_json json not null,
    parsed_run_id varchar
);

create table if not exists raw.partners (
    partner_id varchar primary key,
    name varchar not null,
    country_iso3 varchar not null,
    country_iso2 varchar,
    website varchar,
    lei varchar,
    cik varchar,
    line integer,
    registry_path varchar,
    loaded_at timestamptz not null
);

create table if not exists ops.runs (
    run_id varchar primary key,
    started_at timestamptz not null,
    finished_at timestamptz,
    status varchar not null,
    partners integer,
    summary json
);

create table if not exists ops.fetch_log (
    run_id varchar not null,
    source varchar not null,
    kind varchar,
    partner_id varchar,
    url varchar,
    status integer,
    outcome varchar not null,
    error varchar,
    payload_sha256 varchar,
    occurred_at timestamptz not null,
    -- null: fetched now; 'not_modified': a 304 confirmed the stored answer; 'fresh': the
    -- stored answer was younger than the source's max_age_hours, no request was made
    reused varchar
);
alter table ops.fetch_log add column if not exists reused varchar;

-- What each validated table was last built from: a model is rebuilt only when one of its
-- inputs has a newer version, and its own version moves only when its rows changed.
create table if not exists ops.table_state (
    table_name varchar primary key,
    version bigint not null,
    inputs json,
    run_id varchar,
    row_count bigint,
    updated_at timestamptz
);

-- The landing key values each version of a keyed raw table wrote (a whole-table replace
-- writes none): a model partitioned by that key rebuilds only these values' rows.
create table if not exists ops.landed_keys (
    table_name varchar not null,
    version bigint not null,
    key varchar not null
);

-- Per source and partner (or dataset): the answers its landing rows were last parsed from.
-- A group whose new answers are byte-identical is not parsed or landed again.
create table if not exists ops.parsed_groups (
    source varchar not null,
    group_key varchar not null,
    signature varchar not null,
    run_id varchar not null,
    primary key (source, group_key)
);

-- Journals of the raw store already loaded into raw.responses / ops.fetch_log.
create table if not exists ops.journals (
    run_id varchar primary key,
    ingested_at timestamptz not null
);

create table if not exists quarantine.partner_registry (
    run_id varchar not null,
    quarantined_at timestamptz not null,
    registry_path varchar,
    line integer,
    column_name varchar,
    value varchar,
    reason varchar not null
);

-- ISO 17442 check digits (ISO 7064 MOD 97-10), usable by analysts in plain SQL too.
create or replace macro lei_check_ok(lei) as
    coalesce(regexp_full_match(lei, '[0-9A-Z]{18}[0-9]{2}'), false)
    and list_reduce(
        list_transform(
            string_split(
                array_to_string(
                    list_transform(
                        string_split(lei, ''),
                        lambda ch: case when ch between '0' and '9' then ch
                                   else cast(ascii(ch) - 55 as varchar) end
                    ),
                    ''
                ),
                ''
            ),
            lambda d: cast(d as integer)
        ),
        lambda acc, d: (acc * 10 + d) % 97
    ) = 1;
