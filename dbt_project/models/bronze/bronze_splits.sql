{#- Stock splits, one row per split id; `split_ratio` = split_to / split_from (2.0 for a
    2-for-1). Rows with a non-positive side are dropped: they cannot adjust prices. -#}

with

ranked as (

    {{ tradlyte_macros.latest_version(source('raw_polygon', 'splits'), ['id']) }}

),

final as (

    select
        cast(id as {{ tradlyte_macros.string_type() }}) as split_id,
        cast(ticker as {{ tradlyte_macros.string_type() }}) as ticker,
        cast(execution_date as date) as execution_date,
        cast(split_from as {{ tradlyte_macros.double_type() }}) as split_from,
        cast(split_to as {{ tradlyte_macros.double_type() }}) as split_to,
        cast(split_to as {{ tradlyte_macros.double_type() }})
        / cast(split_from as {{ tradlyte_macros.double_type() }}) as split_ratio,
        ingested_at
    from ranked
    where split_from > 0 and split_to > 0

)

select * from final
