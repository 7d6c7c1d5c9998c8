-- Adverse-media tags (lexicon category and phrase) on the partners' articles
-- (stg_news__articles), from the collection that landed each article last: tags an article
-- no longer carries (a lexicon change, then a reparse) do not linger.
with source as (
    select a.*
    from raw.news__adverse as a
    semi join staging.stg_news__articles as n
        on
            a.partner_id = n.partner_id
            and a.article_key = n.article_key
            and a.collection_id = n.collection_id
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
