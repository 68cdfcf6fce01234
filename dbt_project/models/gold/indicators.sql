{{
    config(
        materialized='table',
    )
}}

{#- gold.indicators: TA-Lib-exact technical indicators over every (ticker, timeframe) series
    of gold.bars, in time order, the partial first bar and the still-open last bar included.
    Each value is NULL until its own look-back is complete (TA-Lib's lookback), and `is_warm`
    is true from the 200th bar on, when every indicator in the row has its full look-back.
    Recursive averages use `linear_recurrence_ctes` (exact; see macros/indicator_recurrence.sql),
    with TA-Lib's seeding:
      EMA(n)      seeded with the SMA of bars 0..n-1, first value at bar n-1
      MACD        fast EMA(12) seeded with the SMA of bars 14..25 and slow EMA(26) with bars
                  0..25 (TA-Lib aligns both on the slow one); signal EMA(9) of MACD seeded with
                  the mean of MACD on bars 25..33; all three from bar 33
      RSI(14)     Wilder averages of gains and losses seeded with the mean of bars 1..14
      ATR(14)     Wilder average of the true range seeded with the mean of bars 1..14 -#}

{%- set keys = ['ticker', 'timeframe'] -%}
{%- set sma_periods = [5, 10, 20, 50, 200] -%}
{%- set ema_periods = [12, 26, 50, 200] -%}

with

bars as (

    select * from {{ ref('bars') }}

),

series as (

    select
        ticker,
        timeframe,
        bar_start_at,
        last_session_date,
        is_complete,
        open,
        high,
        low,
        close,
        volume,
        row_number() over (partition by ticker, timeframe order by bar_start_at) - 1 as rn,
        lag(close) over (partition by ticker, timeframe order by bar_start_at) as previous_close
    from bars

),

moves as (

    select
        *,
        case when rn >= 1 then greatest(close - previous_close, 0) end as gain,
        case when rn >= 1 then greatest(previous_close - close, 0) end as loss,
        case
            when rn >= 1
                then greatest(high - low, abs(high - previous_close), abs(low - previous_close))
        end as true_range,
        sum(
            case
                when rn = 0 then volume
                when close > previous_close then volume
                when close < previous_close then -volume
                else 0
            end
        ) over (
            partition by ticker, timeframe order by rn rows between unbounded preceding and current row
        ) as obv
    from series

),

windows as (

    select
        *,
        {% for n in sma_periods + [12, 26] | unique | list %}
            avg(close) over (
                partition by ticker, timeframe order by rn rows between {{ n - 1 }} preceding and current row
            ) as mean_close_{{ n }},
        {% endfor %}
        avg(gain) over (
            partition by ticker, timeframe order by rn rows between 13 preceding and current row
        ) as mean_gain_14,
        avg(loss) over (
            partition by ticker, timeframe order by rn rows between 13 preceding and current row
        ) as mean_loss_14,
        avg(true_range) over (
            partition by ticker, timeframe order by rn rows between 13 preceding and current row
        ) as mean_true_range_14,
        stddev_pop(close) over (
            partition by ticker, timeframe order by rn rows between 19 preceding and current row
        ) as std_close_20,
        max(high) over (
            partition by ticker, timeframe order by rn rows between 13 preceding and current row
        ) as highest_high_14,
        min(low) over (
            partition by ticker, timeframe order by rn rows between 13 preceding and current row
        ) as lowest_low_14
    from moves

),

{% for n in ema_periods %}
{{ tradlyte_macros.linear_recurrence_ctes(
    'ema_' ~ n, 'windows', keys, 'close', 'mean_close_' ~ n, n - 1,
    1 - 2.0 / (n + 1), 2.0 / (n + 1)) }},
{% endfor %}

{{ tradlyte_macros.linear_recurrence_ctes(
    'macd_fast', 'windows', keys, 'close', 'mean_close_12', 25, 1 - 2.0 / 13, 2.0 / 13) }},

{{ tradlyte_macros.linear_recurrence_ctes(
    'rsi_gain', 'windows', keys, 'gain', 'mean_gain_14', 14, 13.0 / 14, 1.0 / 14) }},

{{ tradlyte_macros.linear_recurrence_ctes(
    'rsi_loss', 'windows', keys, 'loss', 'mean_loss_14', 14, 13.0 / 14, 1.0 / 14) }},

{{ tradlyte_macros.linear_recurrence_ctes(
    'atr', 'windows', keys, 'true_range', 'mean_true_range_14', 14, 13.0 / 14, 1.0 / 14) }},

macd_line as (

    select
        windows.ticker,
        windows.timeframe,
        windows.rn,
        case when windows.rn >= 25 then macd_fast.value - ema_26.value end as macd_raw
    from windows
    left join macd_fast
        on macd_fast.ticker = windows.ticker and macd_fast.timeframe = windows.timeframe and macd_fast.rn = windows.rn
    left join ema_26
        on ema_26.ticker = windows.ticker and ema_26.timeframe = windows.timeframe and ema_26.rn = windows.rn

),

macd_with_seed as (

    select
        *,
        avg(macd_raw) over (
            partition by ticker, timeframe order by rn rows between 8 preceding and current row
        ) as mean_macd_9
    from macd_line

),

{{ tradlyte_macros.linear_recurrence_ctes(
    'macd_signal', 'macd_with_seed', keys, 'macd_raw', 'mean_macd_9', 33, 0.8, 0.2) }},

stochastic as (

    select
        ticker,
        timeframe,
        rn,
        case
            when rn >= 13 and highest_high_14 > lowest_low_14
                then 100 * (close - lowest_low_14) / (highest_high_14 - lowest_low_14)
            when rn >= 13 then 0
        end as fast_k
    from windows

),

stochastic_slow as (

    select
        *,
        avg(fast_k) over (
            partition by ticker, timeframe order by rn rows between 2 preceding and current row
        ) as slow_k
    from stochastic

),

stochastic_final as (

    select
        *,
        avg(slow_k) over (
            partition by ticker, timeframe order by rn rows between 2 preceding and current row
        ) as slow_d
    from stochastic_slow

),

joined as (

    select
        windows.ticker,
        windows.timeframe,
        windows.bar_start_at,
        windows.last_session_date,
        windows.is_complete,
        windows.close,
        windows.rn,
        {% for n in sma_periods %}
            case when windows.rn >= {{ n - 1 }} then windows.mean_close_{{ n }} end as sma_{{ n }},
        {% endfor %}
        {% for n in ema_periods %}
            ema_{{ n }}.value as ema_{{ n }},
        {% endfor %}
        case when windows.rn >= 33 then macd_line.macd_raw end as macd,
        macd_signal.value as macd_signal,
        case when windows.rn >= 14 and rsi_gain.value + rsi_loss.value > 0
                then 100 * rsi_gain.value / (rsi_gain.value + rsi_loss.value)
            when windows.rn >= 14 then 0
        end as rsi_14,
        case when windows.rn >= 19 then windows.mean_close_20 + 2 * windows.std_close_20 end as bb_upper,
        case when windows.rn >= 19 then windows.mean_close_20 end as bb_middle,
        case when windows.rn >= 19 then windows.mean_close_20 - 2 * windows.std_close_20 end as bb_lower,
        atr.value as atr_14,
        case when windows.rn >= 17 then stochastic_final.slow_k end as stoch_k,
        case when windows.rn >= 17 then stochastic_final.slow_d end as stoch_d,
        windows.obv
    from windows
    {% for cte in [
        'ema_12', 'ema_26', 'ema_50', 'ema_200', 'macd_line', 'macd_signal',
        'rsi_gain', 'rsi_loss', 'atr', 'stochastic_final',
    ] %}
        left join {{ cte }}
            on
                {{ cte }}.ticker = windows.ticker
                and {{ cte }}.timeframe = windows.timeframe
                and {{ cte }}.rn = windows.rn
    {% endfor %}

),

final as (

    select
        ticker,
        timeframe,
        bar_start_at,
        last_session_date,
        close,
        {% for n in sma_periods %}
            cast(sma_{{ n }} as {{ tradlyte_macros.double_type() }}) as sma_{{ n }},
        {% endfor %}
        {% for n in ema_periods %}
            cast(ema_{{ n }} as {{ tradlyte_macros.double_type() }}) as ema_{{ n }},
        {% endfor %}
        cast(macd as {{ tradlyte_macros.double_type() }}) as macd,
        cast(case when rn >= 33 then macd_signal end as {{ tradlyte_macros.double_type() }}) as macd_signal,
        cast(case when rn >= 33 then macd - macd_signal end as {{ tradlyte_macros.double_type() }}) as macd_hist,
        cast(rsi_14 as {{ tradlyte_macros.double_type() }}) as rsi_14,
        cast(bb_upper as {{ tradlyte_macros.double_type() }}) as bb_upper,
        cast(bb_middle as {{ tradlyte_macros.double_type() }}) as bb_middle,
        cast(bb_lower as {{ tradlyte_macros.double_type() }}) as bb_lower,
        cast(atr_14 as {{ tradlyte_macros.double_type() }}) as atr_14,
        cast(stoch_k as {{ tradlyte_macros.double_type() }}) as stoch_k,
        cast(stoch_d as {{ tradlyte_macros.double_type() }}) as stoch_d,
        cast(obv as {{ tradlyte_macros.double_type() }}) as obv,
        is_complete,
        rn >= 199 as is_warm
    from joined

)

select * from final
