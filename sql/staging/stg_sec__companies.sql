-- partition by: cik
with source as (
    select * from raw.sec__companies
),

renamed as (
    select
        cik as cik,
        regexp_full_match(cik, '[0-9]{10}') as cik_ok,
        name as sec_name,
        nullif(tickers, '') as tickers,
        nullif(exchanges, '') as exchanges,
        sic as sic,
        sic_description as sic_description,
        state_of_incorporation as state_of_incorporation,
        incorporation_country as incorporation_country,
        country as country,
        country_evidence as country_evidence,
        business_city as business_city,
        business_state_or_country as business_state_or_country,
        fiscal_year_end as fiscal_year_end,
        entity_type as entity_type,
        filer_category as filer_category,
        ein as ein,
        upper(lei) as lei,
        website as website,
        nullif(former_names, '') as former_names,
        recent_filings as recent_filings,
        older_filing_pages as older_filing_pages,
        latest_annual_form as latest_annual_form,
        try_cast(latest_annual_filed as date) as latest_annual_filed,
        coalesce(try_cast(latest_annual_filed as date) <= current_date, true)
            as dates_not_in_future,
        source_url as source_url,
        payload_sha256 as payload_sha256,
        fetched_at as fetched_at
    from source
)

select * from renamed
