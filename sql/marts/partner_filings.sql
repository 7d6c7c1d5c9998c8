-- SEC filings of partners with a given or resolved CIK: one row per partner and accession, with
-- form (10-K, 20-F, 8-K, 6-K, ...), filing and report dates, the 8-K items and the primary
-- document's URL. `partnerdd changes` alerts on a new filing of a watched form
-- (config/changes.toml [watch] forms).
-- partition by: partner_id
-- partition key of staging.stg_sec__filings: cik
with identifiers as (
    select partner_id, value as cik
    from staging.stg_resolution__identifiers
    where scheme = 'cik' and status in ('given', 'resolved') and value is not null
),

filings as (
    select * from staging.stg_sec__filings
),

joined as (
    select
        i.partner_id as partner_id,
        f.cik as cik,
        f.accession as accession,
        f.form as form,
        f.filing_date as filing_date,
        f.report_date as report_date,
        f.accepted_at as accepted_at,
        f.primary_document as primary_document,
        f.description as description,
        f.items as items,
        f.document_url as document_url,
        i.partner_id || ':' || f.accession as filing_key,
        f.source_url as source_url,
        f.payload_sha256 as payload_sha256,
        f.fetched_at as fetched_at
    from identifiers as i
    inner join filings as f
        on i.cik = f.cik
)

select * from joined
