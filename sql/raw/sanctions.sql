-- Sanctions lists (issue 3): OFAC SDN and UN SC consolidated, one load per list.
create table if not exists raw.sanctions__entries (
    list_name varchar not null,
    entry_id varchar not null,
    entity_type varchar,
    primary_name varchar,
    programs varchar,
    remarks varchar,
    countries varchar,
    country_codes varchar,
    listed_on varchar,
    reference_number varchar,
    list_published varchar,
    list_published_basis varchar,
    source_url varchar not null,
    payload_sha256 varchar not null,
    fetched_at timestamptz not null
);

create table if not exists raw.sanctions__names (
    list_name varchar not null,
    entry_id varchar not null,
    name varchar,
    name_type varchar,
    source_url varchar not null,
    payload_sha256 varchar,
    fetched_at timestamptz not null
);
