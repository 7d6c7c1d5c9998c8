-- Every website fetch of each partner's latest crawl (latest_attempt), and of its latest
-- crawl that did not fail when that one failed (raw.web__fetches keeps both): the pages and
-- facts published are that crawl's (published), the other stg_web__ models keep the rows of
-- these crawls only. A crawl failed when it could not fetch the home page; a site skipped
-- did not fail. With no crawl that did not fail, the latest is the published one (no facts).
with source as (
    select * from raw.web__fetches
),

crawls as (
    select
        partner_id as partner_id,
        collection_id as collection_id,
        bool_or(crawl_failed) as crawl_failed,
        max(fetched_at) as fetched_at
    from source
    group by partner_id, collection_id
),

chosen as (
    select
        partner_id as partner_id,
        arg_max(collection_id, fetched_at) as latest_attempt,
        coalesce(
            arg_max(collection_id, fetched_at) filter (where not crawl_failed),
            arg_max(collection_id, fetched_at)
        ) as published
    from crawls
    group by partner_id
),

renamed as (
    select
        s.partner_id as partner_id,
        s.collection_id as collection_id,
        s.kind as kind,
        s.page_type as page_type,
        s.url as url,
        s.final_url as final_url,
        s.status as http_status,
        s.fetched_at as fetched_at,
        s.content_type as content_type,
        s.charset as charset,
        s.bytes as bytes,
        s.redirects as redirects,
        s.outcome as outcome,
        nullif(trim(s.reason), '') as reason,
        s.source_url as source_url,
        s.payload_sha256 as payload_sha256,
        s.crawl_failed as crawl_failed,
        s.collection_id = c.latest_attempt as latest_attempt,
        s.collection_id = c.published as published
    from source as s
    inner join chosen as c
        on
            s.partner_id = c.partner_id
            and s.collection_id in (c.latest_attempt, c.published)
)

select * from renamed
