-- News (flows/sources/news.py). collection_id identifies one extract run; staging keeps each
-- partner's latest collection only. Every fetch (GDELT query, home page, feed) is a row with
-- its outcome and reason; general feeds from config are fetched once per run (news__feed_fetches).
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
