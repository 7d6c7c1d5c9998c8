-- Direct children per parent LEI, as far as the children pages were fetched
-- (children_total is what GLEIF reported; fewer rows mean a capped or failed paging).
with source as (
    select * from raw.gleif__children
),

renamed as (
    select
        upper(parent_lei) as parent_lei,
        upper(child_lei) as child_lei,
        upper(parent_lei) || ':' || upper(child_lei) as child_key,
        lei_check_ok(upper(parent_lei)) as parent_lei_check_ok,
        lei_check_ok(upper(child_lei)) as lei_check_ok,
        child_name as child_name,
        upper(child_country) as child_country,
        children_total as children_total,
        source_url as source_url,
        payload_sha256 as payload_sha256,
        fetched_at as fetched_at
    from source
)

select * from renamed
