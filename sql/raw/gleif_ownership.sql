-- GLEIF level 2 (issue 3): parents or reporting exceptions, and direct children.
create table if not exists raw.gleif__ownership (
    child_lei varchar not null,
    relation varchar not null,
    parent_lei varchar,
    parent_name varchar,
    relationship_type varchar,
    relationship_status varchar,
    period_start varchar,
    exception_category varchar,
    exception_reason varchar,
    source_url varchar not null,
    payload_sha256 varchar not null,
    fetched_at timestamptz not null
);

create table if not exists raw.gleif__children (
    parent_lei varchar not null,
    child_lei varchar,
    child_name varchar,
    child_country varchar,
    children_total integer,
    source_url varchar not null,
    payload_sha256 varchar not null,
    fetched_at timestamptz not null
);
