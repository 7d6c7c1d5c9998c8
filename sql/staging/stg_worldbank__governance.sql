-- One row per country, year and governance dimension. Observations the publisher marks
-- as missing ("..") stay in raw.worldbank__wgi and are not staged; aggregates and former
-- economies (country_kind <> 'country') are not countries and stay in raw as well.
with source as (
    select * from raw.worldbank__wgi
),

renamed as (
    select
        iso3 as iso3,
        wb_code as wb_code,
        country_name as country_name,
        cast(year as integer) as year,
        lower(indicator) as indicator,
        estimate as estimate,
        stddev as stddev,
        cast(nsource as integer) as nsource,
        pctrank as pctrank,
        pctrank_lower as pctrank_lower,
        pctrank_upper as pctrank_upper,
        source_url as source_url,
        payload_sha256 as payload_sha256,
        fetched_at as fetched_at
    from source
    where country_kind = 'country'
      and estimate is not null
)

select * from renamed
