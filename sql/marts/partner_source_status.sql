-- What happened for each partner and source in the latest run: ok, http_error, failed, skipped.
with latest_run as (
    select run_id as run_id
    from ops.runs
    order by started_at desc
    limit 1
),

fetches as (
    select f.*
    from ops.fetch_log as f
    inner join latest_run as r
        on f.run_id = r.run_id
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
    where partner_id is not null
)

select * from renamed
