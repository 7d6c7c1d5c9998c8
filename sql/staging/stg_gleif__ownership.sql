-- Direct and ultimate parent per LEI: a relationship record or a reporting exception (reason).
with source as (
    select * from raw.gleif__ownership
),

renamed as (
    select
        upper(child_lei) as lei,
        lei_check_ok(upper(child_lei)) as lei_check_ok,
        upper(child_lei) || ':' || relation as ownership_key,
        relation as relation,
        upper(parent_lei) as parent_lei,
        case when parent_lei is not null then lei_check_ok(upper(parent_lei)) end
            as parent_lei_check_ok,
        parent_name as parent_name,
        relationship_type as relationship_type,
        relationship_status as relationship_status,
        try_cast(period_start as date) as period_start,
        exception_category as exception_category,
        exception_reason as exception_reason,
        coalesce(try_cast(period_start as date) <= current_date, true) as dates_not_in_future,
        source_url as source_url,
        payload_sha256 as payload_sha256,
        fetched_at as fetched_at
    from source
)

select * from renamed
