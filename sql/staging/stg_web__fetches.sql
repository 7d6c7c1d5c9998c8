-- Every website fetch of each partner's latest crawl: a parse replaces the partner's fetch
-- rows, so raw keeps one crawl per partner. The other stg_web__ models keep the rows of these
-- crawls only (a page or fact the site no longer shows does not linger).
with source as (
    select * from raw.web__fetches
),

renamed as (
    select
        partner_id as partner_id,
        collection_id as collection_id,
        kind as kind,
        page_type as page_type,
        url as url,
        final_url as final_url,
        status as http_status,
        fetched_at as fetched_at,
        content_type as content_type,
        charset as charset,
        bytes as bytes,
        redirects as redirects,
        outcome as outcome,
        nullif(trim(reason), '') as reason,
        source_url as source_url,
        payload_sha256 as payload_sha256
    from source
)

select * from renamed
