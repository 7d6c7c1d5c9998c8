-- partition by: cik
-- Annual headline metrics per CIK and fiscal year (revenue, net_income, total_assets, equity,
-- employees), US-GAAP or IFRS, with the concept, unit, period and filing they come from.
with source as (
    select * from raw.sec__annual_metrics
),

renamed as (
    select
        cik as cik,
        regexp_full_match(cik, '[0-9]{10}') as cik_ok,
        cik || ':' || metric || ':' || cast(fiscal_year as varchar) as metric_key,
        fiscal_year as fiscal_year,
        metric as metric,
        value as value,
        unit as unit,
        taxonomy as taxonomy,
        concept as concept,
        try_cast(period_start as date) as period_start,
        try_cast(period_end as date) as period_end,
        form as form,
        try_cast(filed as date) as filed,
        accession as accession,
        coalesce(try_cast(filed as date) <= current_date, false)
        and coalesce(try_cast(period_end as date) <= current_date, false) as dates_not_in_future,
        source_url as source_url,
        payload_sha256 as payload_sha256,
        fetched_at as fetched_at
    from source
)

select * from renamed
