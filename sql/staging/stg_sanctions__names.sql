-- Every name an entry is listed under (primary, aka, fka, weak).
with source as (
    select * from raw.sanctions__names
),

renamed as (
    select
        list_name as list_name,
        entry_id as entry_id,
        list_name || ':' || entry_id as entry_key,
        trim(name) as name,
        name_type as name_type,
        source_url as source_url,
        payload_sha256 as payload_sha256,
        fetched_at as fetched_at
    from source
)

select * from renamed
