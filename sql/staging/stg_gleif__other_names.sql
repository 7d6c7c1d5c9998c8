-- Previous, trading, alternative-language and transliterated names of the partners' LEIs.
with source as (
    select * from raw.gleif__other_names
),

renamed as (
    select distinct
        upper(lei) as lei,
        lei_check_ok(upper(lei)) as lei_check_ok,
        name as name,
        name_type as name_type,
        language as language,
        source_url as source_url,
        payload_sha256 as payload_sha256,
        fetched_at as fetched_at
    from source
)

select * from renamed
