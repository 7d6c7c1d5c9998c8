-- Every fetch of each registry partner's website in its latest crawl, with its outcome and
-- reason (robots_disallowed, too_large, blocked_address, skipped, ...) and, for pages that
-- arrived, what the stored page says about itself. A crawl that failed shows here; the facts
-- of the one before stay in partner_web_profile and partner_capabilities.
with partners as (
    select partner_id as partner_id
    from staging.stg_registry__partners
),

fetches as (
    select * from staging.stg_web__fetches
    where latest_attempt
),

pages as (
    select * from staging.stg_web__pages
),

joined as (
    select
        f.partner_id as partner_id,
        f.kind as kind,
        f.page_type as page_type,
        f.url as url,
        f.final_url as final_url,
        f.fetched_at as fetched_at,
        f.http_status as status,
        f.outcome as outcome,
        f.reason as reason,
        f.redirects as redirects,
        f.bytes as bytes,
        f.charset as charset,
        pg.lang as lang,
        pg.title as title,
        pg.canonical_url as canonical_url,
        f.payload_sha256 as sha256,
        f.collection_id as collection_id
    from fetches as f
    inner join partners as p
        on f.partner_id = p.partner_id
    left join pages as pg
        on
            f.partner_id = pg.partner_id
            and f.collection_id = pg.collection_id
            and f.kind = 'page'
            and f.url = pg.url
)

select * from joined
