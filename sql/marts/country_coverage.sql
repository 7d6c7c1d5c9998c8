-- Which partner countries miss which index: one row per partner country and expected index,
-- with the reason for a gap (the source file was skipped or failed in the latest run, or the
-- publisher's file has no value for that country).
with partner_countries as (
    select distinct country_iso3 as iso3 from staging.stg_registry__partners
),

expected as (
    select * from (values
        ('wgi', 'worldbank', 6),
        ('cpi', 'cpi', 1),
        ('hofstede', 'hofstede', 6),
        ('heritage', 'heritage', 4),
        ('ip_protection', 'heritage', 1)
    ) as t (index_name, source_file, expected_dimensions)
),

present as (
    select
        iso3 as iso3,
        index_name as index_name,
        count(distinct dimension) as dimensions,
        max(year) as latest_year
    from marts.country_profile
    group by iso3, index_name
),

latest_run as (
    select run_id as run_id from ops.runs order by started_at desc limit 1
),

problem_rows as (
    select
        case when f.source = 'worldbank' then 'worldbank'
             else split_part(f.error, ':', 1) end as source_file,
        f.outcome || ': ' || coalesce(f.error, '') as problem
    from ops.fetch_log as f
    inner join latest_run as r
        on f.run_id = r.run_id
    where f.source in ('worldbank', 'indices')
      and f.outcome <> 'ok'
),

source_problems as (
    select source_file as source_file, string_agg(problem, '; ') as problem
    from problem_rows
    group by source_file
),

joined as (
    select
        c.iso3 as iso3,
        e.index_name as index_name,
        coalesce(p.dimensions, 0) as dimensions,
        e.expected_dimensions as expected_dimensions,
        p.latest_year as latest_year,
        case
            when p.dimensions is null then 'missing'
            when p.dimensions < e.expected_dimensions then 'partial'
            else 'present'
        end as coverage,
        case
            when p.dimensions is not null and p.dimensions >= e.expected_dimensions then null
            when s.problem is not null then s.problem
            else 'the publisher''s file has no value for this country'
        end as gap_reason
    from partner_countries as c
    cross join expected as e
    left join present as p
        on c.iso3 = p.iso3 and e.index_name = p.index_name
    left join source_problems as s
        on e.source_file = s.source_file
)

select * from joined
