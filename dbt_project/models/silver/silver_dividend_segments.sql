{#- Dividend back-adjustment factors as date ranges per ticker (CRSP-style total return):
    each cash dividend contributes 1 - cash / (raw close of the session before the
    ex-date); a session in [valid_from, valid_to) multiplies its split-adjusted prices by
    `dividend_factor` (the product over every later ex-date) for a total-return series.
    A dividend whose previous session has no bar contributes nothing (factor 1). -#}

with

dividends as (

    select * from {{ ref('bronze_dividends') }}

),

bars as (

    select
        ticker,
        session_date,
        close
    from {{ ref('bronze_daily_aggs') }}

),

calendar as (

    select
        session_date,
        session_index
    from {{ ref('trading_calendar') }}

),

previous_session as (

    select
        d.ticker,
        d.ex_dividend_date,
        sum(d.cash_amount) as cash_amount,
        max(prev.session_date) as previous_session_date
    from dividends as d
    inner join calendar as ex on ex.session_date = d.ex_dividend_date
    inner join calendar as prev on prev.session_index = ex.session_index - 1
    group by d.ticker, d.ex_dividend_date

),

factors as (

    select
        p.ticker,
        p.ex_dividend_date,
        case
            when b.close > p.cash_amount then ln(1 - p.cash_amount / b.close)
            else 0
        end as log_factor
    from previous_session as p
    left join bars as b
        on b.ticker = p.ticker and b.session_date = p.previous_session_date

),

cumulative as (

    select
        ticker,
        ex_dividend_date as valid_to,
        lag(ex_dividend_date) over (
            partition by ticker order by ex_dividend_date
        ) as previous_ex_date,
        sum(log_factor) over (
            partition by ticker
            order by ex_dividend_date desc
            rows between unbounded preceding and current row
        ) as log_factor_this_and_later
    from factors

),

final as (

    select
        ticker,
        coalesce(previous_ex_date, cast('0001-01-01' as date)) as valid_from,
        valid_to,
        exp(log_factor_this_and_later) as dividend_factor
    from cumulative

)

select * from final
