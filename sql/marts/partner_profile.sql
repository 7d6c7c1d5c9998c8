-- One row per registry partner: identity from GLEIF, country governance from the World Bank.
-- Missing sources stay null (unknown), never a default.
with partners as (
    select * from staging.stg_registry__partners
),

lei_records as (
    select * from staging.stg_gleif__lei_records
),

countries as (
    select * from marts.country_profile
),

joined as (
    select
        p.partner_id as partner_id,
        p.name as name,
        r.legal_name as legal_name,
        p.lei as lei,
        p.country_iso3 as country,
        p.country_iso2 as country_iso2,
        c.country_name as country_name,
        p.website as website,
        p.cik as cik,
        r.registration_status as lei_status,
        r.entity_status as entity_status,
        r.legal_form_id as legal_form,
        r.jurisdiction as jurisdiction,
        r.legal_address_city as legal_address_city,
        r.legal_address_country as legal_address_country,
        r.hq_address_city as hq_city,
        r.next_renewal_at as lei_next_renewal_at,
        r.registration_status = 'LAPSED' as lei_lapsed,
        c.governance_year as governance_year,
        c.gov_va as gov_va,
        c.gov_pv as gov_pv,
        c.gov_ge as gov_ge,
        c.gov_rq as gov_rq,
        c.gov_rl as gov_rl,
        c.gov_cc as gov_cc,
        r.source_url as gleif_source_url,
        r.fetched_at as gleif_fetched_at,
        c.governance_source_url as governance_source_url
    from partners as p
    left join lei_records as r
        on p.lei = r.lei
    left join countries as c
        on p.country_iso3 = c.iso3
)

select * from joined
