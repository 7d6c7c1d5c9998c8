-- GLEIF level 1: the partners' own LEI records and their other names (previous, trading,
-- transliterated).
create table if not exists raw.gleif__lei_records (
    lei varchar primary key,
    legal_name varchar,
    legal_name_language varchar,
    legal_form_id varchar,
    legal_form_other varchar,
    jurisdiction varchar,
    entity_status varchar,
    entity_category varchar,
    legal_address_lines varchar,
    legal_address_city varchar,
    legal_address_region varchar,
    legal_address_country varchar,
    legal_address_postal_code varchar,
    hq_address_lines varchar,
    hq_address_city varchar,
    hq_address_region varchar,
    hq_address_country varchar,
    hq_address_postal_code varchar,
    registration_status varchar,
    initial_registration_date varchar,
    last_update_date varchar,
    next_renewal_date varchar,
    managing_lou varchar,
    corroboration_level varchar,
    golden_copy_publish_date varchar,
    source_url varchar not null,
    payload_sha256 varchar not null,
    fetched_at timestamptz not null
);

create table if not exists raw.gleif__other_names (
    lei varchar not null,
    name varchar,
    name_type varchar,
    language varchar,
    source_url varchar not null,
    payload_sha256 varchar not null,
    fetched_at timestamptz not null
);
