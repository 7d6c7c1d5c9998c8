-- LEI and CIK per partner: given in the registry, resolved by search (with confidence and
-- evidence), ambiguous (flagged for review, no value), none or error.
with identifiers as (
    select * from staging.stg_resolution__identifiers
),

renamed as (
    select
        partner_id as partner_id,
        scheme as scheme,
        value as value,
        status as status,
        confidence as confidence,
        evidence as evidence,
        candidates as candidates,
        query_name as query_name,
        query_country as query_country,
        status = 'ambiguous' as needs_review,
        source_url as source_url,
        payload_sha256 as payload_sha256,
        fetched_at as fetched_at
    from identifiers
)

select * from renamed
