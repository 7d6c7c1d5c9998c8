-- Pages parsed from the stored bytes of each partner's published crawl: its latest that did
-- not fail (stg_web__fetches).
with source as (
    select p.*
    from raw.web__pages as p
    semi join staging.stg_web__fetches as f
        on p.partner_id = f.partner_id and p.collection_id = f.collection_id and f.published
),

renamed as (
    select
        partner_id as partner_id,
        collection_id as collection_id,
        url as url,
        final_url as final_url,
        page_type as page_type,
        status as http_status,
        nullif(trim(title), '') as title,
        meta_description as meta_description,
        nullif(trim(lang), '') as lang,
        lower(split_part(nullif(trim(lang), ''), '-', 1)) as lang_primary,
        canonical_url as canonical_url,
        og_site_name as og_site_name,
        og_title as og_title,
        og_type as og_type,
        og_description as og_description,
        source_url as source_url,
        payload_sha256 as payload_sha256,
        fetched_at as fetched_at
    from source
)

select * from renamed
