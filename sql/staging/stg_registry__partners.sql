with source as (
    select * from raw.partners
),

renamed as (
    select
        partner_id as partner_id,
        name as name,
        country_iso3 as country_iso3,
        country_iso2 as country_iso2,
        nullif(trim(website), '') as website,
        upper(nullif(trim(lei), '')) as lei,
        nullif(trim(cik), '') as cik,
        line as registry_line,
        registry_path as registry_path,
        loaded_at as loaded_at
    from source
)

select * from renamed
