{#- One row per NYSE session from 1962-01-02 to the end of next year, from the seed that
    `python -m orchestration.calendar_seed` writes with pandas_market_calendars. The session
    index (0 = 1962-01-02) anchors Fibonacci bars for every ticker alike. -#}

with

sessions as (

    select * from {{ ref('nyse_sessions') }}

),

final as (

    select
        cast(session_date as date) as session_date,
        cast(session_index as integer) as session_index,
        cast(market_open_at as {{ tradlyte_macros.timestamptz_type() }}) as market_open_at,
        cast(market_close_at as {{ tradlyte_macros.timestamptz_type() }}) as market_close_at,
        cast(is_half_day as boolean) as is_half_day,
        {{ tradlyte_macros.ny_midnight('session_date') }} as day_start_at,
        {{ tradlyte_macros.ny_midnight('session_date + 1') }} as day_end_at
    from sessions

)

select * from final
