with source as (
    select * from raw.gleif__lei_records
),

renamed as (
    select
        upper(lei) as lei,
        lei_check_ok(upper(lei)) as lei_check_ok,
        legal_name as legal_name,
        legal_name_language as legal_name_language,
        legal_form_id as legal_form_id,
        legal_form_other as legal_form_other,
        jurisdiction as jurisdiction,
        upper(legal_address_country) as legal_address_country,
        entity_status as entity_status,
        entity_category as entity_category,
        legal_address_lines as legal_address_lines,
        legal_address_city as legal_address_city,
        legal_address_region as legal_address_region,
        legal_address_postal_code as legal_address_postal_code,
        hq_address_lines as hq_address_lines,
        hq_address_city as hq_address_city,
        hq_address_region as hq_address_region,
        upper(hq_address_country) as hq_address_country,
        hq_address_postal_code as hq_address_postal_code,
        registration_status as registration_status,
        try_cast(initial_registration_date as timestamptz) as initial_registration_at,
        try_cast(last_update_date as timestamptz) as last_update_at,
        try_cast(next_renewal_date as timestamptz) as next_renewal_at,
        managing_lou as managing_lou,
        corroboration_level as corroboration_level,
        try_cast(golden_copy_publish_date as timestamptz) as golden_copy_published_at,
        source_url as source_url,
        payload_sha256 as payload_sha256,
        fetched_at as fetched_at
    from source
)

select * from renamed
