-- What happened for each partner and source in the latest run that fetched for that partner
-- (a nightly run fetches for every partner, `partnerdd request` for one only): ok,
-- http_error, failed, skipped.
with partner_runs as (
    select
        f.partner_id as partner_id,
        arg_max(f.run_id, r.started_at) as run_id
    from ops.fetch_log as f
    inner join ops.runs as r
        on f.run_id = r.run_id
    where f.partner_id is not null
    group by f.partner_id
),

fetches as (
    select f.*
    from ops.fetch_log as f
    inner join partner_runs as p
        on f.run_id = p.run_id and f.partner_id = p.partner_id
    where f.partner_id in (select r.partner_id from raw.partners as r)
),

renamed as (
    select
        partner_id as partner_id,
        source as source,
        outcome as outcome,
        status as http_status,
        error as error,
        url as url,
        occurred_at as occurred_at
    from fetches
)

select * from renamed
