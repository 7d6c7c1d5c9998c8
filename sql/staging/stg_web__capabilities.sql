-- Capability phrases found on the pages of each partner's published crawl: its latest that
-- did not fail (stg_web__fetches).
with source as (
    select k.*
    from raw.web__capabilities as k
    semi join staging.stg_web__fetches as f
        on k.partner_id = f.partner_id and k.collection_id = f.collection_id and f.published
),

renamed as (
    select
        partner_id as partner_id,
        collection_id as collection_id,
        capability as capability,
        label as label,
        phrase as phrase,
        lang as lang,
        matched_text as matched_text,
        page_url as page_url,
        evidence as evidence,
        hits as hits,
        source_url as source_url,
        payload_sha256 as payload_sha256,
        fetched_at as fetched_at
    from source
)

select * from renamed
