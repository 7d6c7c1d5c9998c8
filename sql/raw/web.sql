-- Partner websites (flows/sources/web.py). collection_id identifies one crawl (one extract
-- run); staging keeps each partner's latest crawl only, so a page or fact the site no longer
-- shows does not linger. Every fetch outcome is a row in web__fetches, failures included.
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
    payload_sha256 varchar
);

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
