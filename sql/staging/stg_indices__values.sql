with source as (
    select * from raw.indices__values
),

renamed as (
    select
        upper(iso3) as iso3,
        lower(index_name) as index_name,
        lower(dimension) as dimension,
        cast(year as integer) as year,
        value as value,
        source as source,
        raw_country as raw_country,
        derived_from as derived_from,
        source_url as source_url,
        payload_sha256 as payload_sha256,
        fetched_at as fetched_at
    from source
    where value is not null
)

select * from renamed
