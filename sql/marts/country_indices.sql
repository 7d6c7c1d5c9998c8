-- Long table of every country index value; issue-4 sources append their own rows here.
with governance as (
    select * from staging.stg_worldbank__governance
),

renamed as (
    select
        iso3 as iso3,
        'wgi' as index_name,
        indicator as dimension,
        year as year,
        estimate as value,
        stddev as standard_error,
        'World Bank Worldwide Governance Indicators' as source,
        source_url as source_url,
        payload_sha256 as payload_sha256,
        fetched_at as fetched_at
    from governance
)

select * from renamed
