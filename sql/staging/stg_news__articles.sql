-- Every news article landed for a partner: articles are merged per article (article_key) run
-- after run, so an article stays after it leaves GDELT's window or a feed, and a partner whose
-- fetch failed keeps the articles it had. Deduplicated by canonical URL (the landing key) and,
-- across runs, by normalised title (the earliest published copy of a story is kept).
with source as (
    select *
    from raw.news__articles
    qualify row_number() over (
        partition by partner_id, coalesce(title_key, article_key)
        order by published nulls last, article_key
    ) = 1
),

renamed as (
    select
        partner_id as partner_id,
        article_key as article_key,
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
