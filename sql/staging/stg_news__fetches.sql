-- Every news fetch of the latest run: per partner (GDELT query, home page, own feeds) and the
-- general feeds from config (partner_id null), each with its outcome and reason. A parse
-- replaces the partner's fetch rows, so raw keeps one collection per partner (articles, by
-- contrast, are merged per article across collections: stg_news__articles).
with partner_fetches as (
    select * from raw.news__fetches
),

latest_feed_run as (
    select collection_id as collection_id
    from raw.news__feed_fetches
    order by fetched_at desc
    limit 1
),

feed_fetches as (
    select f.*
    from raw.news__feed_fetches as f
    inner join latest_feed_run as r
        on f.collection_id = r.collection_id
),

unioned as (
    select
        partner_id as partner_id,
        collection_id as collection_id,
        kind as kind,
        url as url,
        final_url as final_url,
        status as status,
        outcome as outcome,
        reason as reason,
        items as items,
        fetched_at as fetched_at,
        source_url as source_url,
        payload_sha256 as payload_sha256
    from partner_fetches
    union all
    select
        cast(null as varchar) as partner_id,
        collection_id as collection_id,
        kind as kind,
        url as url,
        final_url as final_url,
        status as status,
        outcome as outcome,
        reason as reason,
        items as items,
        fetched_at as fetched_at,
        source_url as source_url,
        payload_sha256 as payload_sha256
    from feed_fetches
),

renamed as (
    select
        partner_id as partner_id,
        collection_id as collection_id,
        kind as kind,
        url as url,
        final_url as final_url,
        status as http_status,
        outcome as outcome,
        nullif(trim(reason), '') as reason,
        items as items,
        fetched_at as fetched_at,
        source_url as source_url,
        payload_sha256 as payload_sha256
    from unioned
)

select * from renamed
