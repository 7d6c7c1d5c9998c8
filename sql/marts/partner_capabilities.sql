-- Capabilities each registry partner's website claims, one row per (page, capability, phrase),
-- with the evidence snippet and the page it was found on.
with partners as (
    select partner_id as partner_id
    from staging.stg_registry__partners
),

capabilities as (
    select * from staging.stg_web__capabilities
),

joined as (
    select
        c.partner_id as partner_id,
        c.capability as capability,
        c.label as label,
        c.phrase as phrase,
        c.lang as lang,
        c.matched_text as matched_text,
        c.evidence as evidence,
        c.page_url as page_url,
        c.hits as hits,
        c.payload_sha256 as payload_sha256,
        c.fetched_at as fetched_at
    from capabilities as c
    inner join partners as p
        on c.partner_id = p.partner_id
)

select * from joined
