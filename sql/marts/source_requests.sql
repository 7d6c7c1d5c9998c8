-- Requests per run and source: the distinct URLs asked (an answer that serves several
-- partners, e.g. one GLEIF page of up to 200 LEI records, counts once; an answer reused while
-- fresh is no request, nor is one a time budget deferred; a 304 is one), the partners of the
-- run (those with any fetch-log row), and requests per partner.
with asked as (
    select
        run_id as run_id,
        source as source,
        count(distinct url) as requests
    from ops.fetch_log
    where
        url is not null
        and outcome not in ('skipped', 'parse_error', 'deferred')
        and coalesce(reused, '') <> 'fresh'
    group by run_id, source
),

partners as (
    select
        run_id as run_id,
        count(distinct partner_id) as partners
    from ops.fetch_log
    where partner_id is not null
    group by run_id
),

counted as (
    select
        a.run_id as run_id,
        a.source as source,
        a.requests as requests,
        p.partners as partners,
        round(a.requests / p.partners, 3) as requests_per_partner
    from asked as a
    left join partners as p
        on a.run_id = p.run_id
)

select * from counted
