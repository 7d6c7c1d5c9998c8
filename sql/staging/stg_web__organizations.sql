-- schema.org organisations (JSON-LD or microdata) on the pages of each partner's published
-- crawl: its latest that did not fail (stg_web__fetches).
with source as (
    select o.*
    from raw.web__organizations as o
    semi join staging.stg_web__fetches as f
        on o.partner_id = f.partner_id and o.collection_id = f.collection_id and f.published
),

renamed as (
    select
        partner_id as partner_id,
        collection_id as collection_id,
        page_type as page_type,
        case page_type
            when 'home' then 0 when 'about' then 1 when 'legal' then 2 when 'contact' then 3
            else 4
        end * 1000 + org_index as org_rank,
        method as method,
        schema_type as schema_type,
        org_id as org_id,
        name as name,
        legal_name as legal_name,
        url as url,
        address as address,
        country as country,
        founding_date as founding_date,
        try_cast(regexp_extract(founding_date, '^\s*(\d{4})', 1) as integer) as founding_year,
        employees as employees,
        cast(same_as as varchar) as same_as,
        lei as lei,
        vat_id as vat_id,
        tax_id as tax_id,
        duns as duns,
        email as email,
        telephone as telephone,
        source_url as source_url,
        payload_sha256 as payload_sha256,
        fetched_at as fetched_at
    from source
)

select * from renamed
