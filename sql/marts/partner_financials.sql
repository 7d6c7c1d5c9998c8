-- Annual headline metrics from SEC XBRL for partners with a given or resolved CIK.
-- partition by: partner_id
-- partition key of staging.stg_sec__annual_metrics: cik
with identifiers as (
    select partner_id, value as cik
    from staging.stg_resolution__identifiers
    where scheme = 'cik' and status in ('given', 'resolved') and value is not null
),

metrics as (
    select * from staging.stg_sec__annual_metrics
),

joined as (
    select
        i.partner_id as partner_id,
        m.cik as cik,
        m.fiscal_year as fiscal_year,
        m.metric as metric,
        m.value as value,
        m.unit as unit,
        m.period_start as period_start,
        m.period_end as period_end,
        m.taxonomy as taxonomy,
        m.concept as concept,
        m.form as form,
        m.filed as filed,
        m.accession as accession,
        i.partner_id || ':' || m.metric || ':' || cast(m.fiscal_year as varchar) as financial_key,
        m.source_url as source_url,
        m.payload_sha256 as payload_sha256,
        m.fetched_at as fetched_at
    from identifiers as i
    inner join metrics as m
        on i.cik = m.cik
)

select * from joined
