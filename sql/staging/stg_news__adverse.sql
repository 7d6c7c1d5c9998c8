-- Adverse-media tags (lexicon category and phrase) on each partner's latest news collection
-- (stg_news__fetches).
with source as (
    select a.*
    from raw.news__adverse as a
    semi join staging.stg_news__fetches as f
        on a.partner_id = f.partner_id and a.collection_id = f.collection_id
),

renamed as (
    select
        partner_id as partner_id,
        collection_id as collection_id,
        url as url,
        title as title,
        published as published_at,
        category as category,
        phrase as phrase,
        lang as lang,
        matched_text as matched_text,
        field as field,
        evidence as evidence,
        source_url as source_url,
        payload_sha256 as payload_sha256,
        fetched_at as fetched_at
    from source
)

select * from renamed
