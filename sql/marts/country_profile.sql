-- One row per country: the latest year with governance estimates, the six dimensions side by side.
with governance as (
    select * from staging.stg_worldbank__governance
),

latest_year as (
    select iso3 as iso3, max(year) as governance_year
    from governance
    group by iso3
),

pivoted as (
    select
        g.iso3 as iso3,
        any_value(g.country_name) as country_name,
        l.governance_year as governance_year,
        max(case when g.indicator = 'va' then g.estimate end) as gov_va,
        max(case when g.indicator = 'pv' then g.estimate end) as gov_pv,
        max(case when g.indicator = 'ge' then g.estimate end) as gov_ge,
        max(case when g.indicator = 'rq' then g.estimate end) as gov_rq,
        max(case when g.indicator = 'rl' then g.estimate end) as gov_rl,
        max(case when g.indicator = 'cc' then g.estimate end) as gov_cc,
        max(case when g.indicator = 'rl' then g.stddev end) as gov_rl_stddev,
        count(*) as governance_dimensions,
        any_value(g.source_url) as governance_source_url,
        max(g.fetched_at) as governance_fetched_at
    from governance as g
    inner join latest_year as l
        on g.iso3 = l.iso3 and g.year = l.governance_year
    group by g.iso3, l.governance_year
)

select * from pivoted
