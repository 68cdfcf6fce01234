{#- Stock splits, one row per split id; `split_ratio` = split_to / split_from (2.0 for a
    2-for-1). Rows with a non-positive side are dropped: they cannot adjust prices. -#}

with

source as (

    select * from {{ source('raw_polygon', 'splits') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by id
            order by _dlt_load_id desc, ingested_at desc, _dlt_id desc
        ) as version_rank
    from source

),

final as (

    select
        cast(id as varchar) as split_id,
        cast(ticker as varchar) as ticker,
        cast(execution_date as date) as execution_date,
        cast(split_from as {{ tradlyte_macros.double_type() }}) as split_from,
        cast(split_to as {{ tradlyte_macros.double_type() }}) as split_to,
        cast(split_to as {{ tradlyte_macros.double_type() }})
        / cast(split_from as {{ tradlyte_macros.double_type() }}) as split_ratio,
        ingested_at
    from ranked
    where version_rank = 1 and split_from > 0 and split_to > 0

)

select * from final
