-- Social profiles and declared RSS/Atom feeds on the pages of each partner's published crawl:
-- its latest that did not fail (stg_web__fetches).
with source as (
    select l.*
    from raw.web__links as l
    semi join staging.stg_web__fetches as f
        on l.partner_id = f.partner_id and l.collection_id = f.collection_id and f.published
),

renamed as (
    select
        partner_id as partner_id,
        collection_id as collection_id,
        kind as kind,
        platform as platform,
        url as url,
        nullif(trim(title), '') as title,
        page_type as page_type,
        source_url as source_url,
        payload_sha256 as payload_sha256,
        fetched_at as fetched_at
    from source
)

select * from renamed
