-- SEC EDGAR (issue 3): company profile and recent filings from submissions, every XBRL fact in
-- long form, and the annual headline metrics derived from them (connectors/sec/metrics.py).
create table if not exists raw.sec__companies (
    cik varchar not null,
    name varchar,
    tickers varchar,
    exchanges varchar,
    sic varchar,
    sic_description varchar,
    state_of_incorporation varchar,
    incorporation_country varchar,
    country varchar,
    country_evidence varchar,
    business_street1 varchar,
    business_street2 varchar,
    business_city varchar,
    business_state_or_country varchar,
    business_zip varchar,
    fiscal_year_end varchar,
    entity_type varchar,
    filer_category varchar,
    ein varchar,
    lei varchar,
    website varchar,
    phone varchar,
    former_names varchar,
    recent_filings integer,
    older_filing_pages integer,
    latest_annual_form varchar,
    latest_annual_filed varchar,
    source_url varchar not null,
    payload_sha256 varchar not null,
    fetched_at timestamptz not null
);

-- The submissions' filings.recent list, one row per CIK and accession (filing_key), merged
-- per filing: SEC has no request cursor, the whole recent list comes each time, and a filing
-- that leaves it for an older page stays.
create table if not exists raw.sec__filings (
    filing_key varchar not null,
    cik varchar not null,
    accession varchar,
    form varchar,
    filing_date varchar,
    report_date varchar,
    acceptance_datetime varchar,
    primary_document varchar,
    primary_doc_description varchar,
    items varchar,
    document_url varchar,
    source_url varchar not null,
    payload_sha256 varchar not null,
    fetched_at timestamptz not null
);

create table if not exists raw.sec__facts (
    cik varchar not null,
    entity_name varchar,
    taxonomy varchar,
    concept varchar,
    label varchar,
    unit varchar,
    value double,
    value_text varchar,
    period_start varchar,
    period_end varchar,
    fiscal_year integer,
    fiscal_period varchar,
    form varchar,
    filed varchar,
    accession varchar,
    frame varchar,
    problem varchar,
    source_url varchar not null,
    payload_sha256 varchar not null,
    fetched_at timestamptz not null
);

create table if not exists raw.sec__annual_metrics (
    cik varchar not null,
    fiscal_year integer,
    metric varchar,
    value double,
    unit varchar,
    taxonomy varchar,
    concept varchar,
    period_start varchar,
    period_end varchar,
    form varchar,
    filed varchar,
    accession varchar,
    source_url varchar not null,
    payload_sha256 varchar not null,
    fetched_at timestamptz not null
);
