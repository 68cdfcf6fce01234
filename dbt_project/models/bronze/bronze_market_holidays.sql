{#- Upcoming exchange closures and early closes as Polygon announces them. The trading
    calendar itself comes from pandas_market_calendars (the seed); these rows let tests and
    operators check the two agree. -#}

with

ranked as (

    {{ tradlyte_macros.latest_version(source('raw_polygon', 'market_holidays'), ['exchange', 'date']) }}

),

final as (

    select
        cast(exchange as {{ tradlyte_macros.string_type() }}) as exchange,
        cast(date as date) as holiday_date,
        cast(name as {{ tradlyte_macros.string_type() }}) as holiday_name,
        cast(status as {{ tradlyte_macros.string_type() }}) as status,
        open as opens_at,
        close as closes_at,
        ingested_at
    from ranked

)

select * from final
