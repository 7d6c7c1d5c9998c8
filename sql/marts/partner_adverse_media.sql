-- Adverse-media tags on each registry partner's news: article, lexicon category and the phrase
-- that matched, with the text around it as evidence.
with partners as (
    select partner_id as partner_id
    from staging.stg_registry__partners
),

adverse as (
    select * from staging.stg_news__adverse
),

joined as (
    select
        a.partner_id as partner_id,
        a.url as url,
        a.title as title,
        a.published_at as published,
        a.category as category,
        a.phrase as phrase,
        a.lang as lang,
        a.matched_text as matched_text,
        a.field as field,
        a.evidence as evidence,
        a.source_url as source_url,
        a.payload_sha256 as payload_sha256,
        a.fetched_at as fetched_at
    from adverse as a
    inner join partners as p
        on a.partner_id = p.partner_id
)

select * from joined
