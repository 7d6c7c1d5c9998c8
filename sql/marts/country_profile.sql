-- Latest value per country, index and dimension, with its year.
with indices as (
    select * from marts.country_indices
),

latest as (
    select
        iso3 as iso3,
        index_name as index_name,
        dimension as dimension,
        arg_max(year, year) as year,
        arg_max(value, year) as value,
        arg_max(standard_error, year) as standard_error,
        arg_max(source, year) as source,
        arg_max(source_url, year) as source_url,
        max(fetched_at) as fetched_at
    from indices
    group by iso3, index_name, dimension
)

select * from latest
