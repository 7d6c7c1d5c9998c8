-- Who owns whom, per partner LEI (given or resolved): direct and ultimate parent, or the
-- reporting exception with its reason, plus the direct children as far as fetched.
with identifiers as (
    select partner_id, value as lei
    from staging.stg_resolution__identifiers
    where scheme = 'lei' and status in ('given', 'resolved') and value is not null
),

parents as (
    select
        i.partner_id as partner_id,
        i.lei as lei,
        o.relation as relation,
        o.parent_lei as parent_lei,
        o.parent_name as parent_name,
        cast(null as varchar) as child_lei,
        cast(null as varchar) as child_name,
        cast(null as varchar) as child_country,
        o.exception_category as exception_category,
        o.exception_reason as exception_reason,
        o.relationship_type as relationship_type,
        o.relationship_status as relationship_status,
        o.period_start as period_start,
        o.source_url as source_url,
        o.payload_sha256 as payload_sha256,
        o.fetched_at as fetched_at
    from identifiers as i
    inner join staging.stg_gleif__ownership as o
        on i.lei = o.lei
),

children as (
    select
        i.partner_id as partner_id,
        i.lei as lei,
        'direct_child' as relation,
        c.parent_lei as parent_lei,
        cast(null as varchar) as parent_name,
        c.child_lei as child_lei,
        c.child_name as child_name,
        c.child_country as child_country,
        cast(null as varchar) as exception_category,
        cast(null as varchar) as exception_reason,
        'IS_DIRECTLY_CONSOLIDATED_BY' as relationship_type,
        cast(null as varchar) as relationship_status,
        cast(null as date) as period_start,
        c.source_url as source_url,
        c.payload_sha256 as payload_sha256,
        c.fetched_at as fetched_at
    from identifiers as i
    inner join staging.stg_gleif__children as c
        on i.lei = c.parent_lei
),

unioned as (
    select * from parents
    union all
    select * from children
),

keyed as (
    select
        *,
        partner_id || ':' || relation || ':' || coalesce(child_lei, '') as ownership_key
    from unioned
)

select * from keyed
