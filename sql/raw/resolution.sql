-- Entity resolution (issue 3): one row per partner and scheme (lei, cik) per run.
-- status: given | resolved | ambiguous | none | error. Search rows cite the search response.
create table if not exists raw.resolution__identifiers (
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
