-- Entity resolution (issue 3): one row per partner and scheme (lei, cik), replaced by the
-- next run that decides it (identifier_key: partner_id|scheme); a failed search lands none.
-- status: given | resolved | ambiguous | none (error: rows landed before failed searches
-- stopped landing). Search rows cite the search response.
create table if not exists raw.resolution__identifiers (
    identifier_key varchar,
    partner_id varchar not null,
    scheme varchar not null,
    value varchar,
    status varchar not null,
    confidence double,
    evidence varchar,
    candidates varchar,
    query_name varchar,
    query_country varchar,
    source_url varchar,
    payload_sha256 varchar,
    fetched_at timestamptz
);

-- Rows landed when they were replaced per partner get their key; a no-op once every row has one.
alter table raw.resolution__identifiers add column if not exists identifier_key varchar;
update raw.resolution__identifiers
set identifier_key = partner_id || '|' || scheme
where identifier_key is null;
