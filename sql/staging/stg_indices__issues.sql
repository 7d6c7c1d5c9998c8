with source as (
    select * from raw.indices__issues
),

renamed as (
    select
        source as source,
        kind as issue_kind,
        raw_country as raw_country,
        raw_code as raw_code,
        column_name as column_name,
        raw_value as raw_value,
        reason as reason,
        line as line,
        source_url as source_url,
        payload_sha256 as payload_sha256,
        fetched_at as fetched_at
    from source
)

select * from renamed
