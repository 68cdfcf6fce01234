{{ config(materialized='ephemeral') }}

{#- The daily series of every security, the frame of the ML marts (gold.ml_features and
    gold.ml_labels read it, so both number and match rows the same way).

    One row per 1d bar of gold.bars. A symbol is matched to the listing (bronze_tickers:
    ticker, security_key, list_date) with the latest list_date on or before the session, so
    a symbol reused by a new company starts a new series, and a delisted security keeps its
    rows for the sessions it traded. `rn` numbers the security's rows from 0 (rolling windows
    count rows, sessions the security traded, as Qlib does); `ticker_rn` numbers the symbol's
    rows across securities (gold.indicators' series are per symbol). Ephemeral: a full table
    would renumber the whole history on every run; each mart reads only its scope. -#}

with

bars as (

    select * from {{ ref('bars') }}

),

calendar as (

    select * from {{ ref('trading_calendar') }}

),

listings as (

    -- silver.securities keeps one symbol per security; the (symbol, security) listing
    -- periods are in bronze_tickers
    select * from {{ ref('bronze_tickers') }}

),

daily as (

    select
        bars.ticker,
        bars.first_session_date as session_date,
        calendar.session_index,
        bars.bar_start_at,
        bars.open,
        bars.high,
        bars.low,
        bars.close,
        bars.volume,
        bars.vwap
    from bars
    inner join calendar on bars.first_session_date = calendar.session_date
    where bars.timeframe = '1d'

),

matched as (

    select
        daily.*,
        coalesce(listings.security_key, daily.ticker) as security_key,
        row_number() over (
            partition by daily.ticker, daily.session_date
            order by coalesce(listings.list_date, cast('1900-01-01' as date)) desc, listings.security_key asc
        ) as listing_rank
    from daily
    left join listings
        on
            daily.ticker = listings.ticker
            and coalesce(listings.list_date, cast('1900-01-01' as date)) <= daily.session_date

),

final as (

    select
        ticker,
        session_date,
        session_index,
        bar_start_at,
        open,
        high,
        low,
        close,
        volume,
        vwap,
        security_key,
        row_number() over (partition by ticker, security_key order by session_date) - 1 as rn,
        row_number() over (partition by ticker order by session_date) - 1 as ticker_rn,
        min(session_date) over (partition by ticker, security_key) as security_first_date
    from matched
    where listing_rank = 1

)

select * from final
