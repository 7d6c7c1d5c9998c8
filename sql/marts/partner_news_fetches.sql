-- Every news fetch of the latest run with its outcome and reason: per registry partner (GDELT
-- query, home page, own feeds) and the general feeds from config (partner_id null).
with partners as (
    select partner_id as partner_id
    from staging.stg_registry__partners
),

fetches as (
    select * from staging.stg_news__fetches
),

kept as (
    select
        f.partner_id as partner_id,
        f.kind as kind,
        f.url as url,
        f.final_url as final_url,
        f.http_status as status,
        f.outcome as outcome,
        f.reason as reason,
        f.items as items,
        f.fetched_at as fetched_at,
        f.payload_sha256 as payload_sha256
    from fetches as f
    left join partners as p
        on f.partner_id = p.partner_id
    where f.partner_id is null or p.partner_id is not null
)

select * from kept
