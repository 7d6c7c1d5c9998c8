-- Partner websites (connectors/web/source.py). collection_id identifies one crawl (one
-- extract run). Every fetch outcome is a row in web__fetches, failures included, replaced by
-- the partner's next crawl of its kind (crawl_key: partner_id|done, or partner_id|failed for
-- a crawl that could not fetch the home page), so a failed crawl lands beside the last one
-- that did not fail. Staging shows the latest crawl's outcome and the pages and facts of the
-- latest one that did not fail, so a page or fact the site no longer shows does not linger
-- and one a failed crawl could not see is not lost.
create table if not exists raw.web__fetches (
    partner_id varchar not null,
    collection_id varchar not null,
    kind varchar not null,          -- page | robots | site (skipped or failed before any fetch)
    page_type varchar,              -- home, about, products, legal, contact, investors, careers
    url varchar,
    final_url varchar,
    status integer,
    fetched_at timestamptz not null,
    content_type varchar,
    charset varchar,
    bytes bigint,
    redirects integer,
    outcome varchar not null,
    reason varchar,
    source_url varchar,
    payload_sha256 varchar,
    crawl_key varchar,
    crawl_failed boolean
);

-- Rows landed when a partner's crawl replaced its last one get their key (each was then the
-- partner's only crawl); a no-op once every row has one.
alter table raw.web__fetches add column if not exists crawl_key varchar;
alter table raw.web__fetches add column if not exists crawl_failed boolean;
update raw.web__fetches as f
set crawl_failed = not exists (
    select 1
    from raw.web__fetches as h
    where
        h.partner_id = f.partner_id
        and h.collection_id = f.collection_id
        and (
            (h.kind = 'page' and h.page_type = 'home' and h.outcome = 'ok')
            or (h.kind = 'site' and h.outcome = 'skipped')
        )
)
where f.crawl_failed is null;
update raw.web__fetches
set crawl_key = partner_id || case when crawl_failed then '|failed' else '|done' end
where crawl_key is null;

create table if not exists raw.web__pages (
    partner_id varchar not null,
    collection_id varchar not null,
    url varchar not null,
    final_url varchar not null,
    page_type varchar,
    status integer,
    title varchar,
    meta_description varchar,
    lang varchar,
    canonical_url varchar,
    og_site_name varchar,
    og_title varchar,
    og_type varchar,
    og_description varchar,
    opengraph json,
    source_url varchar not null,
    payload_sha256 varchar not null,
    fetched_at timestamptz not null
);

create table if not exists raw.web__organizations (
    partner_id varchar not null,
    collection_id varchar not null,
    page_type varchar,
    org_index integer,
    method varchar,
    schema_type varchar,
    org_id varchar,
    name varchar,
    legal_name varchar,
    url varchar,
    address varchar,
    country varchar,
    founding_date varchar,
    employees varchar,
    same_as json,
    lei varchar,
    vat_id varchar,
    tax_id varchar,
    duns varchar,
    email varchar,
    telephone varchar,
    source_url varchar not null,
    payload_sha256 varchar not null,
    fetched_at timestamptz not null
);

create table if not exists raw.web__links (
    partner_id varchar not null,
    collection_id varchar not null,
    kind varchar not null,          -- social | feed
    platform varchar,               -- social platform, or the feed's media type
    url varchar not null,
    title varchar,
    page_type varchar,
    source_url varchar not null,
    payload_sha256 varchar not null,
    fetched_at timestamptz not null
);

create table if not exists raw.web__capabilities (
    partner_id varchar not null,
    collection_id varchar not null,
    capability varchar not null,
    label varchar,
    phrase varchar not null,
    lang varchar,
    matched_text varchar,
    page_url varchar not null,
    evidence varchar,
    hits integer,
    source_url varchar not null,
    payload_sha256 varchar not null,
    fetched_at timestamptz not null
);
