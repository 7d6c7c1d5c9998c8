-- One row per registry partner: identifiers and how they were found, latest SEC figures,
-- ownership (ultimate parent or the reporting exception), LEI registration, sanctions hits.
-- Unknown stays null, never a default.
with partners as (
    select * from staging.stg_registry__partners
),

lei as (
    select * from staging.stg_resolution__identifiers where scheme = 'lei'
),

cik as (
    select * from staging.stg_resolution__identifiers where scheme = 'cik'
),

latest as (
    select
        partner_id,
        metric,
        fiscal_year,
        value,
        unit,
        row_number() over (partition by partner_id, metric order by fiscal_year desc) as rn
    from marts.partner_financials
),

revenue as (
    select * from latest where metric = 'revenue' and rn = 1
),

net_income as (
    select * from latest where metric = 'net_income' and rn = 1
),

employees as (
    select * from latest where metric = 'employees' and rn = 1
),

ultimate as (
    select * from marts.partner_ownership where relation = 'ultimate_parent'
),

direct as (
    select * from marts.partner_ownership where relation = 'direct_parent'
),

children as (
    select
        o.partner_id,
        count(*) as children_loaded,
        max(c.children_total) as children_reported
    from marts.partner_ownership as o
    left join staging.stg_gleif__children as c
        on o.parent_lei = c.parent_lei and o.child_lei = c.child_lei
    where o.relation = 'direct_child'
    group by o.partner_id
),

hits as (
    select partner_id, count(*) as hit_count, max(score) as max_score
    from marts.partner_sanctions_hits
    group by partner_id
),

screened as (
    select max(list_published) as lists_published_max, min(list_published) as lists_published_min
    from staging.stg_sanctions__entries
),

registration as (
    select lei, registration_status, next_renewal_at
    from staging.stg_gleif__lei_records
),

companies as (
    select cik, sec_name from staging.stg_sec__companies
),

joined as (
    select
        p.partner_id as partner_id,
        p.name as name,
        l.value as lei,
        l.status as lei_resolution,
        l.confidence as lei_confidence,
        c.value as cik,
        c.status as cik_resolution,
        c.confidence as cik_confidence,
        co.sec_name as sec_name,
        r.registration_status as lei_registration_status,
        r.next_renewal_at as lei_next_renewal_at,
        r.registration_status = 'LAPSED' as lei_lapsed,
        rv.value as latest_revenue,
        rv.unit as latest_revenue_unit,
        rv.fiscal_year as latest_revenue_year,
        ni.value as latest_net_income,
        ni.unit as latest_net_income_unit,
        ni.fiscal_year as latest_net_income_year,
        em.value as latest_employees,
        em.fiscal_year as latest_employees_year,
        d.parent_lei as direct_parent_lei,
        d.parent_name as direct_parent_name,
        d.exception_reason as direct_parent_exception,
        u.parent_lei as ultimate_parent_lei,
        u.parent_name as ultimate_parent_name,
        u.exception_reason as ultimate_parent_exception,
        ch.children_loaded as direct_children_loaded,
        ch.children_reported as direct_children_reported,
        case when s.lists_published_max is not null then coalesce(h.hit_count, 0) end
            as sanctions_hit_count,
        h.max_score as sanctions_max_score,
        s.lists_published_min as sanctions_lists_published
    from partners as p
    left join lei as l
        on p.partner_id = l.partner_id
    left join cik as c
        on p.partner_id = c.partner_id
    left join companies as co
        on c.value = co.cik
    left join registration as r
        on l.value = r.lei
    left join revenue as rv
        on p.partner_id = rv.partner_id
    left join net_income as ni
        on p.partner_id = ni.partner_id
    left join employees as em
        on p.partner_id = em.partner_id
    left join direct as d
        on p.partner_id = d.partner_id
    left join ultimate as u
        on p.partner_id = u.partner_id
    left join children as ch
        on p.partner_id = ch.partner_id
    left join hits as h
        on p.partner_id = h.partner_id
    cross join screened as s
)

select * from joined
