{#- Upcoming exchange closures and early closes as Polygon announces them. The trading
    calendar itself comes from pandas_market_calendars (the seed); these rows let tests and
    operators check the two agree. -#}

with

source as (

    select * from {{ source('raw_polygon', 'market_holidays') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by exchange, date
            order by _dlt_load_id desc, ingested_at desc, _dlt_id desc
        ) as version_rank
    from source

),

final as (

    select
        cast(exchange as varchar) as exchange,
        cast(date as date) as holiday_date,
        cast(name as varchar) as holiday_name,
        cast(status as varchar) as status,
        open as opens_at,
        close as closes_at,
        ingested_at
    from ranked
    where version_rank = 1

)

select * from final
