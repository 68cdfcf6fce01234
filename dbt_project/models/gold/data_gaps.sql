{#- Every NYSE session in a ticker's listed life that has no bar.

    A symbol's life runs from its first bar to the latest session loaded for the market, or
    to its last bar when the symbol has no active listing any more (delisted). When
    reference data exists for the symbol, only sessions inside one of its listings
    ([list_date, delisted date]) count, so the months between a delisted company and a new
    company reusing the symbol are not gaps. Holidays and weekends are not sessions, so
    they are never gaps. -#}

with

bars as (

    select
        ticker,
        session_date,
        session_index
    from {{ ref('silver_daily_bars') }}

),

calendar as (

    select
        session_date,
        session_index
    from {{ ref('trading_calendar') }}

),

tickers as (

    select * from {{ ref('bronze_tickers') }}

),

market_as_of as (

    select max(session_index) as as_of_index from bars

),

listing_status as (

    select
        ticker,
        max(case when is_active then 1 else 0 end) as has_active_listing
    from tickers
    group by ticker

),

spans as (

    select
        bars.ticker,
        min(bars.session_index) as first_index,
        case
            when max(listing_status.has_active_listing) = 0 then max(bars.session_index)
            else max(market_as_of.as_of_index)
        end as last_index
    from bars
    cross join market_as_of
    left join listing_status on listing_status.ticker = bars.ticker
    group by bars.ticker

),

expected as (

    select
        spans.ticker,
        calendar.session_date,
        calendar.session_index
    from spans
    inner join calendar
        on calendar.session_index between spans.first_index and spans.last_index

),

listed as (

    select expected.*
    from expected
    where
        not exists (
            select 1
            from tickers
            where tickers.ticker = expected.ticker
        )
        or exists (
            select 1
            from tickers
            where
                tickers.ticker = expected.ticker
                and (tickers.list_date is null or tickers.list_date <= expected.session_date)
                and (tickers.delisted_date is null or expected.session_date <= tickers.delisted_date)
        )

),

final as (

    select
        listed.ticker,
        listed.session_date,
        listed.session_index
    from listed
    left join bars
        on bars.ticker = listed.ticker and bars.session_index = listed.session_index
    where bars.ticker is null

)

select * from final
