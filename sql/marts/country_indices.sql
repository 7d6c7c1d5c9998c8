-- Long table of every country index value (iso3, index, dimension, year, value, source),
-- governance from the World Bank plus CPI, Hofstede, Heritage and the IP-protection proxy.
with governance as (
    select * from staging.stg_worldbank__governance
),

other_indices as (
    select * from staging.stg_indices__values
),

governance_renamed as (
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
),

other_renamed as (
    select
        iso3 as iso3,
        index_name as index_name,
        dimension as dimension,
        year as year,
        value as value,
        cast(null as double) as standard_error,
        source as source,
        source_url as source_url,
        payload_sha256 as payload_sha256,
        fetched_at as fetched_at
    from other_indices
),

unioned as (
    select * from governance_renamed
    union all
    select * from other_renamed
)

select * from unioned
