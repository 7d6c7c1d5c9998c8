-- News about each registry partner (GDELT query, its own feeds, general feeds naming it), every
-- article landed so far (GDELT is asked only since the latest one seen), deduplicated by
-- canonical URL and normalised title.
with partners as (
    select partner_id as partner_id
    from staging.stg_registry__partners
),

articles as (
    select * from staging.stg_news__articles
),

joined as (
    select
        a.partner_id as partner_id,
        a.url as url,
        a.canonical_url as canonical_url,
        a.title as title,
        a.published_at as published,
        a.source as source,
        a.lang as lang,
        a.tone as tone,
        a.origin as origin,
        a.attribution as attribution,
        a.matched_name as matched_name,
        a.feed_url as feed_url,
        a.source_country as source_country,
        a.duplicates as duplicates,
        a.source_url as source_url,
        a.payload_sha256 as payload_sha256,
        a.fetched_at as fetched_at
    from articles as a
    inner join partners as p
        on a.partner_id = p.partner_id
)

select * from joined
