-- partition by: filing_key
-- Every filing of the SEC submissions' recent lists (filings.recent: about the last 1,000
-- filings of a CIK), one row per CIK and accession. Landed per filing, so a filing stays when
-- it moves on to an older page of the submissions (which the refresh does not fetch).
with source as (
    select * from raw.sec__filings
),

renamed as (
    select
        filing_key as filing_key,
        cik as cik,
        regexp_full_match(cik, '[0-9]{10}') as cik_ok,
        accession as accession,
        form as form,
        try_cast(filing_date as date) as filing_date,
        try_cast(report_date as date) as report_date,
        try_cast(acceptance_datetime as timestamptz) as accepted_at,
        primary_document as primary_document,
        nullif(trim(primary_doc_description), '') as description,
        nullif(trim(items), '') as items,
        document_url as document_url,
        coalesce(try_cast(filing_date as date) <= current_date, true) as dates_not_in_future,
        source_url as source_url,
        payload_sha256 as payload_sha256,
        fetched_at as fetched_at
    from source
)

select * from renamed
