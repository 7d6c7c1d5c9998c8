-- One row per registry partner: identity (GLEIF, with LEI/CIK given or resolved), filings,
-- ownership and sanctions screening, website and news, country context (governance, CPI, IP protection) and
-- distances from the home country. Missing sources stay null (unknown), never a default.
with partners as (
    select * from staging.stg_registry__partners
),

diligence as (
    select * from marts.partner_diligence_summary
),

media as (
    select * from marts.partner_media_summary
),

lei_records as (
    select * from staging.stg_gleif__lei_records
),

country_latest as (
    select * from marts.country_profile
),

governance as (
    select
        iso3 as iso3,
        max(year) as governance_year,
        max(case when dimension = 'va' then value end) as gov_va,
        max(case when dimension = 'pv' then value end) as gov_pv,
        max(case when dimension = 'ge' then value end) as gov_ge,
        max(case when dimension = 'rq' then value end) as gov_rq,
        max(case when dimension = 'rl' then value end) as gov_rl,
        max(case when dimension = 'cc' then value end) as gov_cc,
        any_value(source_url) as governance_source_url
    from country_latest
    where index_name = 'wgi'
    group by iso3
),

other_indices as (
    select
        iso3 as iso3,
        max(case when index_name = 'cpi' and dimension = 'score' then value end) as cpi_score,
        max(case when index_name = 'cpi' and dimension = 'score' then year end) as cpi_year,
        max(case when index_name = 'ip_protection' then value end) as ip_protection,
        max(case when index_name = 'ip_protection' then year end) as ip_protection_year
    from country_latest
    where index_name in ('cpi', 'ip_protection')
    group by iso3
),

distances as (
    select
        partner_iso3 as iso3,
        any_value(home_iso3) as home_country,
        max(case when measure = 'kogut_singh_4d' then value end) as cultural_distance_ks4,
        max(case when measure = 'kogut_singh_6d' then value end) as cultural_distance_ks6,
        max(case when measure = 'institutional_euclidean' then value end)
            as institutional_distance_euclidean,
        max(case when measure = 'institutional_mahalanobis' then value end)
            as institutional_distance_mahalanobis,
        max(case when measure = 'ip_protection_gap' then value end) as ip_protection_gap
    from marts.country_distance
    group by partner_iso3
),

country_names as (
    select distinct iso3 as iso3, country_name as country_name
    from staging.stg_worldbank__governance
),

joined as (
    select
        p.partner_id as partner_id,
        p.name as name,
        r.legal_name as legal_name,
        r.legal_name_language as legal_name_language,
        coalesce(p.lei, dd.lei) as lei,
        dd.lei_resolution as lei_resolution,
        p.country_iso3 as country,
        p.country_iso2 as country_iso2,
        n.country_name as country_name,
        p.website as website,
        coalesce(p.cik, dd.cik) as cik,
        dd.cik_resolution as cik_resolution,
        dd.sec_name as sec_name,
        r.registration_status as lei_status,
        r.entity_status as entity_status,
        r.legal_form_id as legal_form,
        r.jurisdiction as jurisdiction,
        r.legal_address_city as legal_address_city,
        r.legal_address_country as legal_address_country,
        r.hq_address_city as hq_city,
        r.next_renewal_at as lei_next_renewal_at,
        r.registration_status = 'LAPSED' as lei_lapsed,
        dd.latest_revenue as latest_revenue,
        dd.latest_revenue_unit as latest_revenue_unit,
        dd.latest_revenue_year as latest_revenue_year,
        dd.latest_net_income as latest_net_income,
        dd.latest_employees as latest_employees,
        dd.latest_employees_year as latest_employees_year,
        dd.direct_parent_name as direct_parent_name,
        dd.direct_parent_exception as direct_parent_exception,
        dd.ultimate_parent_lei as ultimate_parent_lei,
        dd.ultimate_parent_name as ultimate_parent_name,
        dd.ultimate_parent_exception as ultimate_parent_exception,
        dd.direct_children_loaded as direct_children_loaded,
        dd.direct_children_reported as direct_children_reported,
        dd.sanctions_hit_count as sanctions_hit_count,
        dd.sanctions_max_score as sanctions_max_score,
        dd.sanctions_lists_published as sanctions_lists_published,
        g.governance_year as governance_year,
        g.gov_va as gov_va,
        g.gov_pv as gov_pv,
        g.gov_ge as gov_ge,
        g.gov_rq as gov_rq,
        g.gov_rl as gov_rl,
        g.gov_cc as gov_cc,
        o.cpi_score as cpi_score,
        o.cpi_year as cpi_year,
        o.ip_protection as ip_protection,
        o.ip_protection_year as ip_protection_year,
        d.home_country as home_country,
        d.cultural_distance_ks4 as cultural_distance_ks4,
        d.cultural_distance_ks6 as cultural_distance_ks6,
        d.institutional_distance_euclidean as institutional_distance_euclidean,
        d.institutional_distance_mahalanobis as institutional_distance_mahalanobis,
        d.ip_protection_gap as ip_protection_gap,
        m.web_status as web_status,
        m.site_lang as site_lang,
        m.legal_name_site as legal_name_site,
        m.founding_year as founding_year,
        m.employees_site as employees_site,
        m.linkedin_url as linkedin_url,
        m.capability_count as capability_count,
        m.capabilities as capabilities,
        m.news_count_total as news_count_total,
        m.news_count_90d as news_count_90d,
        m.news_as_of as news_as_of,
        m.adverse_articles as adverse_articles,
        m.adverse_fraud as adverse_fraud,
        m.adverse_bribery_corruption as adverse_bribery_corruption,
        m.adverse_sanctions as adverse_sanctions,
        m.adverse_litigation as adverse_litigation,
        m.adverse_labour as adverse_labour,
        m.adverse_environment as adverse_environment,
        m.adverse_insolvency as adverse_insolvency,
        m.adverse_data_breach as adverse_data_breach,
        r.source_url as gleif_source_url,
        r.fetched_at as gleif_fetched_at,
        g.governance_source_url as governance_source_url
    from partners as p
    left join diligence as dd
        on p.partner_id = dd.partner_id
    left join media as m
        on p.partner_id = m.partner_id
    left join lei_records as r
        on coalesce(p.lei, dd.lei) = r.lei
    left join governance as g
        on p.country_iso3 = g.iso3
    left join other_indices as o
        on p.country_iso3 = o.iso3
    left join distances as d
        on p.country_iso3 = d.iso3
    left join country_names as n
        on p.country_iso3 = n.iso3
)

select * from joined
