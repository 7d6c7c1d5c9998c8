-- One row per registry partner for partner_profile: website facts, capabilities, news volume
-- and adverse-media counts by category. $as_of is the run date (or [sources.news] as_of).
-- Counts are null when nothing was collected for the partner (unknown is never "no news").
with partners as (
    select partner_id as partner_id
    from staging.stg_registry__partners
),

web as (
    select * from marts.partner_web_profile
),

capabilities as (
    select
        partner_id as partner_id,
        count(distinct capability) as capability_count,
        string_agg(distinct capability, ' ' order by capability) as capabilities
    from staging.stg_web__capabilities
    group by partner_id
),

news_fetches as (
    select * from staging.stg_news__fetches
),

general_feeds as (
    select count(*) filter (where outcome = 'ok') as feeds_ok
    from news_fetches
    where partner_id is null
),

partner_fetches as (
    select
        partner_id as partner_id,
        max(outcome) filter (where kind = 'gdelt') as news_gdelt_outcome,
        count(*) filter (where kind = 'gdelt' and outcome = 'ok') as gdelt_ok,
        count(*) filter (where kind = 'own_feed' and outcome = 'ok') as own_feeds_ok
    from news_fetches
    where partner_id is not null
    group by partner_id
),

articles as (
    select
        partner_id as partner_id,
        count(*) as news_count_total,
        count(*) filter (
            where
                published_at > cast($as_of as timestamptz) - interval 90 day
                and published_at <= cast($as_of as timestamptz)
        ) as news_count_90d
    from staging.stg_news__articles
    group by partner_id
),

adverse as (
    select
        partner_id as partner_id,
        count(distinct url) as adverse_articles,
        count(distinct url) filter (where category = 'fraud') as adverse_fraud,
        count(distinct url) filter (where category = 'bribery_corruption')
            as adverse_bribery_corruption,
        count(distinct url) filter (where category = 'sanctions') as adverse_sanctions,
        count(distinct url) filter (where category = 'litigation') as adverse_litigation,
        count(distinct url) filter (where category = 'labour') as adverse_labour,
        count(distinct url) filter (where category = 'environment') as adverse_environment,
        count(distinct url) filter (where category = 'insolvency') as adverse_insolvency,
        count(distinct url) filter (where category = 'data_breach') as adverse_data_breach
    from staging.stg_news__adverse
    group by partner_id
),

coverage as (
    select
        p.partner_id as partner_id,
        f.news_gdelt_outcome as news_gdelt_outcome,
        coalesce(f.gdelt_ok, 0) + coalesce(f.own_feeds_ok, 0) + coalesce(g.feeds_ok, 0)
            as news_sources_ok
    from partners as p
    left join partner_fetches as f
        on p.partner_id = f.partner_id
    cross join general_feeds as g
),

joined as (
    select
        p.partner_id as partner_id,
        w.web_status as web_status,
        w.site_lang as site_lang,
        w.legal_name as legal_name_site,
        w.founding_year as founding_year,
        w.employees_site as employees_site,
        w.linkedin_url as linkedin_url,
        case when w.pages_ok > 0 then coalesce(k.capability_count, 0) end as capability_count,
        k.capabilities as capabilities,
        v.news_gdelt_outcome as news_gdelt_outcome,
        v.news_sources_ok as news_sources_ok,
        case when v.news_sources_ok > 0 then coalesce(a.news_count_total, 0) end
            as news_count_total,
        case when v.news_sources_ok > 0 then coalesce(a.news_count_90d, 0) end as news_count_90d,
        case when v.news_sources_ok > 0 then coalesce(d.adverse_articles, 0) end
            as adverse_articles,
        case when v.news_sources_ok > 0 then coalesce(d.adverse_fraud, 0) end as adverse_fraud,
        case when v.news_sources_ok > 0 then coalesce(d.adverse_bribery_corruption, 0) end
            as adverse_bribery_corruption,
        case when v.news_sources_ok > 0 then coalesce(d.adverse_sanctions, 0) end
            as adverse_sanctions,
        case when v.news_sources_ok > 0 then coalesce(d.adverse_litigation, 0) end
            as adverse_litigation,
        case when v.news_sources_ok > 0 then coalesce(d.adverse_labour, 0) end as adverse_labour,
        case when v.news_sources_ok > 0 then coalesce(d.adverse_environment, 0) end
            as adverse_environment,
        case when v.news_sources_ok > 0 then coalesce(d.adverse_insolvency, 0) end
            as adverse_insolvency,
        case when v.news_sources_ok > 0 then coalesce(d.adverse_data_breach, 0) end
            as adverse_data_breach,
        cast($as_of as timestamptz) as news_as_of
    from partners as p
    left join web as w
        on p.partner_id = w.partner_id
    left join capabilities as k
        on p.partner_id = k.partner_id
    inner join coverage as v
        on p.partner_id = v.partner_id
    left join articles as a
        on p.partner_id = a.partner_id
    left join adverse as d
        on p.partner_id = d.partner_id
)

select * from joined
