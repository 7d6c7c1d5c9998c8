-- News (connectors/news/source.py). collection_id identifies one extract run. Every fetch
-- (GDELT query, home page, feed) is a row with its outcome and reason, the latest collection
-- per partner; general feeds from config are fetched once per run (news__feed_fetches).
-- Articles and their adverse-media tags are merged per article (article_key: partner and
-- canonical URL, else normalised title): GDELT is asked only for what is new since the latest
-- article landed, and a partner whose fetch failed keeps the articles it had.
create table if not exists raw.news__fetches (
    partner_id varchar not null,
    collection_id varchar not null,
    kind varchar not null,          -- gdelt | home | own_feed
    url varchar,
    final_url varchar,
    status integer,
    outcome varchar not null,
    reason varchar,
    items integer,
    fetched_at timestamptz not null,
    source_url varchar,
    payload_sha256 varchar
);

create table if not exists raw.news__feed_fetches (
    collection_id varchar not null,
    kind varchar not null,          -- config_feed
    url varchar not null,
    final_url varchar,
    status integer,
    outcome varchar not null,
    reason varchar,
    items integer,
    fetched_at timestamptz not null,
    source_url varchar,
    payload_sha256 varchar
);

create table if not exists raw.news__articles (
    partner_id varchar not null,
    collection_id varchar not null,
    article_key varchar,
    url varchar,
    canonical_url varchar,
    title varchar,
    title_key varchar,
    published timestamptz,
    source varchar,
    lang varchar,
    tone double,
    feed_url varchar,
    summary varchar,
    source_country varchar,
    origin varchar not null,        -- gdelt | feed
    attribution varchar not null,   -- gdelt_query | own_feed | name_mention
    matched_name varchar,
    duplicates integer,
    source_url varchar not null,
    payload_sha256 varchar not null,
    fetched_at timestamptz not null
);

create table if not exists raw.news__adverse (
    partner_id varchar not null,
    collection_id varchar not null,
    article_key varchar,
    url varchar,
    title varchar,
    published timestamptz,
    category varchar not null,
    phrase varchar not null,
    lang varchar,
    matched_text varchar,
    field varchar,
    evidence varchar,
    source_url varchar not null,
    payload_sha256 varchar not null,
    fetched_at timestamptz not null
);

-- Rows landed before articles were merged per article get their key (as connectors/news/
-- source.py article_key computes it); a no-op once every row has one.
alter table raw.news__articles add column if not exists article_key varchar;
alter table raw.news__adverse add column if not exists article_key varchar;
update raw.news__articles
set article_key = partner_id || '|' || coalesce(canonical_url, 'title:' || title_key, '')
where article_key is null;
update raw.news__adverse as t
set article_key = a.article_key
from raw.news__articles as a
where t.article_key is null
    and a.partner_id = t.partner_id
    and a.collection_id = t.collection_id
    and a.url is not distinct from t.url;
