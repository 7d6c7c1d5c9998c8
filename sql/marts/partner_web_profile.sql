-- One row per registry partner: what its website says about the company. Facts come from the
-- schema.org organisations on the crawled pages (home first, then about, legal, contact, ...);
-- a partner whose site was skipped or unreachable has nulls (unknown), never defaults. The
-- crawl they come from is the latest that did not fail (web_status, pages, crawled_at); a
-- later one that could not fetch the home page is failed_attempt_status with its reason.
with partners as (
    select
        partner_id as partner_id,
        website as website
    from staging.stg_registry__partners
),

fetches as (
    select * from staging.stg_web__fetches
),

pages as (
    select * from staging.stg_web__pages
),

orgs as (
    select * from staging.stg_web__organizations
),

links as (
    select * from staging.stg_web__links
),

crawls as (
    select
        partner_id as partner_id,
        published as published,
        latest_attempt as latest_attempt,
        coalesce(
            max(outcome) filter (where kind = 'site'),
            max(outcome) filter (where kind = 'page' and page_type = 'home')
        ) as web_status,
        coalesce(
            max(reason) filter (where kind = 'site'),
            max(reason) filter (where kind = 'page' and page_type = 'home' and outcome <> 'ok')
        ) as web_status_reason,
        count(*) filter (where kind = 'page' and outcome = 'ok') as pages_ok,
        count(*) filter (where kind = 'page' and outcome <> 'ok') as pages_not_fetched,
        max(fetched_at) as crawled_at
    from fetches
    group by partner_id, collection_id, published, latest_attempt
),

crawl as (
    select * from crawls
    where published
),

failed_attempt as (
    select * from crawls
    where latest_attempt and not published
),

home as (
    select
        partner_id as partner_id,
        max(final_url) as home_url,
        max(lang) as site_lang_tag,
        max(lang_primary) as site_lang,
        max(title) as home_title,
        max(og_site_name) as og_site_name,
        max(meta_description) as meta_description
    from pages
    where page_type = 'home'
    group by partner_id
),

org_facts as (
    select
        partner_id as partner_id,
        arg_min(name, org_rank) filter (where name is not null) as org_name,
        arg_min(legal_name, org_rank) filter (where legal_name is not null) as legal_name,
        arg_min(founding_date, org_rank) filter (where founding_date is not null)
            as founding_date,
        arg_min(founding_year, org_rank) filter (where founding_year is not null)
            as founding_year,
        arg_min(employees, org_rank) filter (where employees is not null) as employees_site,
        arg_min(address, org_rank) filter (where address is not null) as address_site,
        arg_min(country, org_rank) filter (where country is not null) as country_site,
        arg_min(same_as, org_rank) filter (where same_as is not null and same_as <> '[]')
            as same_as,
        arg_min(lei, org_rank) filter (where lei is not null) as lei_site,
        arg_min(vat_id, org_rank) filter (where vat_id is not null) as vat_id_site,
        arg_min(source_url, org_rank) as org_source_url
    from orgs
    group by partner_id
),

socials as (
    select
        partner_id as partner_id,
        string_agg(distinct url, ' ' order by url) filter (where kind = 'social')
            as social_links,
        min(url) filter (where platform = 'linkedin') as linkedin_url,
        min(url) filter (where platform = 'twitter') as twitter_url,
        min(url) filter (where platform = 'facebook') as facebook_url,
        min(url) filter (where platform = 'xing') as xing_url,
        string_agg(distinct url, ' ' order by url) filter (where kind = 'feed') as feed_links
    from links
    group by partner_id
),

joined as (
    select
        p.partner_id as partner_id,
        p.website as website,
        c.web_status as web_status,
        c.web_status_reason as web_status_reason,
        c.pages_ok as pages_ok,
        c.pages_not_fetched as pages_not_fetched,
        c.crawled_at as crawled_at,
        a.web_status as failed_attempt_status,
        a.web_status_reason as failed_attempt_reason,
        h.home_url as home_url,
        h.site_lang as site_lang,
        h.site_lang_tag as site_lang_tag,
        h.home_title as home_title,
        h.og_site_name as og_site_name,
        h.meta_description as meta_description,
        o.org_name as org_name,
        o.legal_name as legal_name,
        o.founding_date as founding_date,
        o.founding_year as founding_year,
        o.employees_site as employees_site,
        o.address_site as address_site,
        o.country_site as country_site,
        o.same_as as same_as,
        o.lei_site as lei_site,
        o.vat_id_site as vat_id_site,
        o.org_source_url as org_source_url,
        s.social_links as social_links,
        s.linkedin_url as linkedin_url,
        s.twitter_url as twitter_url,
        s.facebook_url as facebook_url,
        s.xing_url as xing_url,
        s.feed_links as feed_links
    from partners as p
    left join crawl as c
        on p.partner_id = c.partner_id
    left join failed_attempt as a
        on p.partner_id = a.partner_id
    left join home as h
        on p.partner_id = h.partner_id
    left join org_facts as o
        on p.partner_id = o.partner_id
    left join socials as s
        on p.partner_id = s.partner_id
)

select * from joined
