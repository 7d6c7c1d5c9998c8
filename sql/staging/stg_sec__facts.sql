-- partition by: cik
-- Every XBRL fact as filed (long form). Non-numeric values keep their text and a problem;
-- validation quarantines them with the reason.
with source as (
    select * from raw.sec__facts
),

renamed as (
    select
        cik as cik,
        regexp_full_match(cik, '[0-9]{10}') as cik_ok,
        entity_name as entity_name,
        taxonomy as taxonomy,
        concept as concept,
        label as label,
        unit as unit,
        value as value,
        value_text as value_text,
        try_cast(period_start as date) as period_start,
        try_cast(period_end as date) as period_end,
        fiscal_year as fiscal_year,
        fiscal_period as fiscal_period,
        form as form,
        try_cast(filed as date) as filed,
        accession as accession,
        frame as frame,
        problem as problem,
        coalesce(try_cast(filed as date) <= current_date, true) as dates_not_in_future,
        source_url as source_url,
        payload_sha256 as payload_sha256,
        fetched_at as fetched_at
    from source
)

select * from renamed
