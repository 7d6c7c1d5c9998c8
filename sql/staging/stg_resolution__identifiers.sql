-- Identifier resolution for the partners of the current registry (rows of partners no longer
-- in the registry stay in raw but are not staged).
with source as (
    select i.*
    from raw.resolution__identifiers as i
    inner join raw.partners as p
        on i.partner_id = p.partner_id
),

renamed as (
    select
        partner_id as partner_id,
        scheme as scheme,
        case when scheme = 'lei' then upper(value) else value end as value,
        status as status,
        confidence as confidence,
        evidence as evidence,
        candidates as candidates,
        query_name as query_name,
        query_country as query_country,
        case
            when scheme = 'lei' and value is not null then lei_check_ok(upper(value))
        end as lei_check_ok,
        case
            when scheme = 'cik' and value is not null then regexp_full_match(value, '[0-9]{10}')
        end as cik_ok,
        source_url as source_url,
        payload_sha256 as payload_sha256,
        fetched_at as fetched_at
    from source
)

select * from renamed
