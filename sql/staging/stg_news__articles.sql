-- News articles of each partner's latest collection (stg_news__fetches), deduplicated by
-- canonical URL and title.
with source as (
    select a.*
    from raw.news__articles as a
    semi join staging.stg_news__fetches as f
        on a.partner_id = f.partner_id and a.collection_id = f.collection_id
),

renamed as (
    select
        partner_id as partner_id,
        collection_id as collection_id,
        url as url,
        canonical_url as canonical_url,
        nullif(trim(title), '') as title,
        title_key as title_key,
        published as published_at,
        source as source,
        nullif(lower(lang), '') as lang,
        tone as tone,
        feed_url as feed_url,
        summary as summary,
        source_country as source_country,
        origin as origin,
        attribution as attribution,
        matched_name as matched_name,
        duplicates as duplicates,
        source_url as source_url,
        payload_sha256 as payload_sha256,
        fetched_at as fetched_at
    from source
)

select * from renamed
