-- One row per listed person, entity, vessel or aircraft, with the list's publication date.
with source as (
    select * from raw.sanctions__entries
),

renamed as (
    select
        list_name as list_name,
        entry_id as entry_id,
        list_name || ':' || entry_id as entry_key,
        entity_type as entity_type,
        primary_name as primary_name,
        nullif(programs, '') as programs,
        remarks as remarks,
        nullif(countries, '') as countries,
        nullif(country_codes, '') as country_codes,
        try_cast(listed_on as date) as listed_on,
        reference_number as reference_number,
        try_cast(list_published as date) as list_published,
        list_published_basis as list_published_basis,
        coalesce(try_cast(list_published as date) <= current_date, false)
        and coalesce(try_cast(listed_on as date) <= current_date, true) as dates_not_in_future,
        source_url as source_url,
        payload_sha256 as payload_sha256,
        fetched_at as fetched_at
    from source
)

select * from renamed
