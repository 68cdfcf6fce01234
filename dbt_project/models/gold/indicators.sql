{{
    config(
        materialized='incremental',
        unique_key=['ticker', 'timeframe', 'bar_start_at'],
    )
}}
{#- delete+insert, or whole-partition insert_overwrite on Spark: macros/spark_incremental.sql -#}
{{ config(**tradlyte_incremental_config()) }}

{#- gold.indicators: TA-Lib-exact technical indicators over every (ticker, timeframe) series
    of gold.bars, in time order, the partial first bar and the still-open last bar included.
    Each value is NULL until its own look-back is complete (TA-Lib's lookback), and `is_warm`
    is true from bar 199 on, when every indicator in the row has its full look-back.
    The periods are the var `indicator_periods` (dbt_project.yml); the numbers below are for
    its defaults (TA-Lib's), and the bar indices come from `tradlyte_macros.ta_lookbacks`.
    Recursive averages use `linear_recurrence_ctes` (exact; see macros/indicator_recurrence.sql),
    with TA-Lib's seeding:
      EMA(n)      seeded with the SMA of bars 0..n-1, first value at bar n-1
      MACD        fast EMA(12) seeded with the SMA of bars 14..25 and slow EMA(26) with bars
                  0..25 (TA-Lib aligns both on the slow one); signal EMA(9) of MACD seeded with
                  the mean of MACD on bars 25..33; all three from bar 33
      RSI(14)     Wilder averages of gains and losses seeded with the mean of bars 1..14
      ATR(14)     Wilder average of the true range seeded with the mean of bars 1..14

    Incremental: per series, the first bar of gold.bars rewritten since this table's newest
    `updated_at` is the restart point, and every row from there to the end of the series is
    rewritten. If the stored row before it (the anchor) is bar 33 or later, every recurrence
    that has started by then continues from the anchor's stored state (EMAs, MACD fast EMA and
    signal, Wilder averages, OBV; one not started yet - EMA50/EMA200 - is seeded as usual),
    and only the 199 bars before the anchor are re-read: the close-only windows (SMAs,
    Bollinger) take them in one narrow pass, and the other passes keep just the last 19 (the
    Bollinger and stochastic look-backs). A younger series, or one a split restated from its
    first bar, is recomputed whole. -#}

{%- set keys = ['ticker', 'timeframe'] -%}
{%- set double = tradlyte_macros.double_type() -%}
{%- set periods = var('indicator_periods') -%}
{%- set sma_periods = periods.sma -%}
{%- set ema_periods = periods.ema -%}
{#- MACD: fast and slow EMA, and the period of its signal EMA -#}
{%- set macd_fast, macd_slow, signal_period = periods.macd -%}
{%- set bb_period, bb_deviations = periods.bollinger -%}
{%- set band = bb_deviations ~ ' * std_close_' ~ bb_period -%}
{%- set stoch_k, stoch_k_slowing, stoch_d = periods.stochastic -%}
{%- set rsi = 'rsi_' ~ periods.rsi -%}
{%- set atr = 'atr_' ~ periods.atr -%}
{%- if macd_slow not in ema_periods -%}
    {{ exceptions.raise_compiler_error('indicator_periods: the MACD slow EMA (' ~ macd_slow
        ~ ') must be one of the EMA periods ' ~ ema_periods ~ ': MACD reads its column') }}
{%- endif -%}
{%- set lookback = tradlyte_macros.ta_lookbacks(periods) -%}
{#- every indicator has its full look-back from bar 199 (SMA200, EMA200) -#}
{%- set warm_index = lookback.warm -%}
{#- a stored row can be continued from once the MACD signal (the last recurrence whose seed
    needs earlier recurrence values) has started -#}
{%- set continuable_index = lookback.macd -%}
{#- the closes' means: the SMAs, the EMAs' seeds, MACD's fast seed and Bollinger's middle band -#}
{%- set mean_periods = (sma_periods + ema_periods + [macd_fast, bb_period]) | unique | list -%}
{#- history re-read before the anchor: the longest close window (SMA200's); the wide passes keep
    only the last 19 rows (Bollinger's 20-bar deviation; the stochastic needs 13 + 2 + 2) -#}
{%- set window_rows = mean_periods | max - 1 -%}
{%- set wide_history_rows = [lookback.bollinger, lookback.stochastic] | max -%}
{%- set state_columns = [] -%}
{%- for n in ema_periods %}{% do state_columns.append('ema_' ~ n) %}{% endfor -%}
{%- do state_columns.extend(['macd_fast_ema', 'macd_signal', 'rsi_avg_gain', 'rsi_avg_loss', atr, 'obv']) -%}

with

bars as (

    select * from {{ ref('bars') }}

),

{% if is_incremental() %}

{#- The incremental CTEs name {{ this }} and gold.bars directly: an import CTE read in several
    places is materialized whole by DuckDB, a full copy of each table on every run. -#}

watermark as (

    select coalesce(max(updated_at), cast('1900-01-01 00:00:00+00' as {{ tradlyte_macros.timestamptz_type() }})) as newest
    from {{ this }}

),

changed_series as (

    select
        ticker,
        timeframe,
        min(bar_start_at) as first_changed_at
    from {{ ref('bars') }}
    where updated_at > (select newest from watermark)
    group by ticker, timeframe

),

anchor_keys as (

    select
        stored.ticker,
        stored.timeframe,
        max(stored.bar_start_at) as anchor_at
    from {{ this }} as stored
    inner join changed_series
        on
            changed_series.ticker = stored.ticker
            and changed_series.timeframe = stored.timeframe
            and stored.bar_start_at < changed_series.first_changed_at
    group by stored.ticker, stored.timeframe

),

anchors as (

    select stored.*
    from {{ this }} as stored
    inner join anchor_keys
        on
            anchor_keys.ticker = stored.ticker
            and anchor_keys.timeframe = stored.timeframe
            and anchor_keys.anchor_at = stored.bar_start_at
    where stored.bar_index >= {{ continuable_index }}

),

window_starts as (

    select
        stored.ticker,
        stored.timeframe,
        stored.bar_start_at as window_start_at
    from {{ this }} as stored
    inner join anchors
        on
            anchors.ticker = stored.ticker
            and anchors.timeframe = stored.timeframe
            and stored.bar_index = greatest(anchors.bar_index - {{ window_rows }}, 0)

),

restarts as (

    select
        changed_series.ticker,
        changed_series.timeframe,
        window_starts.window_start_at,
        anchors.bar_index as anchor_index,
        {% for column in state_columns %}
            anchors.{{ column }} as anchor_{{ column }}{{ ',' if not loop.last }}
        {% endfor %}
    from changed_series
    left join anchors
        on anchors.ticker = changed_series.ticker and anchors.timeframe = changed_series.timeframe
    left join window_starts
        on window_starts.ticker = changed_series.ticker and window_starts.timeframe = changed_series.timeframe

),

{% endif %}

series as (

    select
        bars.ticker,
        bars.timeframe,
        bars.bar_start_at,
        bars.last_session_date,
        bars.is_complete,
        bars.high,
        bars.low,
        bars.close,
        bars.volume,
        {% if is_incremental() %}
            coalesce(greatest(restarts.anchor_index - {{ window_rows }}, 0), 0)
            + row_number() over (partition by bars.ticker, bars.timeframe order by bars.bar_start_at)
            - 1 as rn,
            restarts.anchor_index,
        {% else %}
            row_number() over (partition by bars.ticker, bars.timeframe order by bars.bar_start_at) - 1 as rn,
            cast(null as integer) as anchor_index,
        {% endif %}
        lag(bars.close) over (partition by bars.ticker, bars.timeframe order by bars.bar_start_at) as previous_close
    from bars
    {% if is_incremental() %}
        inner join restarts
            on
                restarts.ticker = bars.ticker
                and restarts.timeframe = bars.timeframe
                and bars.bar_start_at >= coalesce(
                    restarts.window_start_at, cast('1900-01-01 00:00:00+00' as {{ tradlyte_macros.timestamptz_type() }})
                )
    {% endif %}

),

close_windows as (

    select
        *,
        {% for n in mean_periods %}
            avg(close) over (
                partition by ticker, timeframe order by rn rows between {{ n - 1 }} preceding and current row
            ) as mean_close_{{ n }},
        {% endfor %}
        stddev_pop(close) over (
            partition by ticker, timeframe order by rn rows between {{ bb_period - 1 }} preceding and current row
        ) as std_close_{{ bb_period }}
    from series

),

-- the wide passes need only the last rows of history, and the anchor's state from here on
trimmed as (

    select
        {% for column in state_columns %}
            {% if is_incremental() %}
                restarts.anchor_{{ column }},
            {% else %}
                cast(null as {{ double }}) as anchor_{{ column }},
            {% endif %}
        {% endfor %}
        close_windows.*
    from close_windows
    {% if is_incremental() %}
        left join restarts
            on restarts.ticker = close_windows.ticker and restarts.timeframe = close_windows.timeframe
    {% endif %}
    where close_windows.rn >= coalesce(close_windows.anchor_index - {{ wide_history_rows }}, 0)

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
        coalesce(anchor_obv, 0) + sum(
            case
                when rn <= coalesce(anchor_index, -1) then 0
                when rn = 0 then volume
                when close > previous_close then volume
                when close < previous_close then -volume
                else 0
            end
        ) over (
            partition by ticker, timeframe order by rn rows between unbounded preceding and current row
        ) as obv
    from trimmed

),

windows as (

    select
        *,
        avg(gain) over (
            partition by ticker, timeframe order by rn rows between {{ periods.rsi - 1 }} preceding and current row
        ) as mean_gain_{{ periods.rsi }},
        avg(loss) over (
            partition by ticker, timeframe order by rn rows between {{ periods.rsi - 1 }} preceding and current row
        ) as mean_loss_{{ periods.rsi }},
        avg(true_range) over (
            partition by ticker, timeframe order by rn rows between {{ periods.atr - 1 }} preceding and current row
        ) as mean_true_range_{{ periods.atr }},
        max(high) over (
            partition by ticker, timeframe order by rn rows between {{ stoch_k - 1 }} preceding and current row
        ) as highest_high_{{ stoch_k }},
        min(low) over (
            partition by ticker, timeframe order by rn rows between {{ stoch_k - 1 }} preceding and current row
        ) as lowest_low_{{ stoch_k }}
    from moves

),

stochastic as (

    select
        *,
        case
            when rn >= {{ stoch_k - 1 }} and highest_high_{{ stoch_k }} > lowest_low_{{ stoch_k }}
                then 100 * (close - lowest_low_{{ stoch_k }}) / (highest_high_{{ stoch_k }} - lowest_low_{{ stoch_k }})
            when rn >= {{ stoch_k - 1 }} then 0
        end as fast_k
    from windows

),

stochastic_slow as (

    select
        *,
        avg(fast_k) over (
            partition by ticker, timeframe order by rn rows between {{ stoch_k_slowing - 1 }} preceding and current row
        ) as slow_k
    from stochastic

),

stochastic_final as (

    select
        *,
        avg(slow_k) over (
            partition by ticker, timeframe order by rn rows between {{ stoch_d - 1 }} preceding and current row
        ) as slow_d
    from stochastic_slow

),

{%- set recurrences = [] -%}
{%- for n in ema_periods -%}
    {%- do recurrences.append((
        'ema_' ~ n,
        tradlyte_macros.recurrence_term('close', 2.0 / (n + 1), 'mean_close_' ~ n, n - 1, 'anchor_ema_' ~ n),
        tradlyte_macros.recurrence_origin(n - 1), 1 - 2.0 / (n + 1))) -%}
{%- endfor -%}
{#- TA-Lib aligns MACD's fast EMA on the slow one: seeded with the SMA of the last `fast` bars
    before the slow EMA's first value -#}
{%- do recurrences.append((
    'macd_fast_ema',
    tradlyte_macros.recurrence_term('close', 2.0 / (macd_fast + 1), 'mean_close_' ~ macd_fast, macd_slow - 1,
                                    'anchor_macd_fast_ema'),
    tradlyte_macros.recurrence_origin(macd_slow - 1), 1 - 2.0 / (macd_fast + 1))) -%}
{%- for column, x, n in [('rsi_avg_gain', 'gain', periods.rsi), ('rsi_avg_loss', 'loss', periods.rsi),
                         (atr, 'true_range', periods.atr)] -%}
    {%- do recurrences.append((
        column,
        tradlyte_macros.recurrence_term(x, 1.0 / n, 'mean_' ~ x ~ '_' ~ n, n, 'anchor_' ~ column),
        tradlyte_macros.recurrence_origin(n), (n - 1.0) / n)) -%}
{%- endfor %}

{{ tradlyte_macros.linear_recurrences_cte('averages', 'stochastic_final', keys, recurrences) }},

macd_line as (

    select
        *,
        case when rn >= {{ macd_slow - 1 }} then macd_fast_ema - ema_{{ macd_slow }} end as macd_raw
    from averages

),

macd_with_seed as (

    select
        *,
        avg(macd_raw) over (
            partition by ticker, timeframe order by rn rows between {{ signal_period - 1 }} preceding and current row
        ) as mean_macd_{{ signal_period }}
    from macd_line

),

{{ tradlyte_macros.linear_recurrences_cte('macd_averages', 'macd_with_seed', keys, [(
    'macd_signal',
    tradlyte_macros.recurrence_term('macd_raw', 2.0 / (signal_period + 1), 'mean_macd_' ~ signal_period,
                                    lookback.macd, 'anchor_macd_signal'),
    tradlyte_macros.recurrence_origin(lookback.macd), 1 - 2.0 / (signal_period + 1))]) }},

joined as (

    select
        ticker,
        timeframe,
        bar_start_at,
        last_session_date,
        is_complete,
        close,
        rn,
        {% for n in sma_periods %}
            case when rn >= {{ lookback['sma_' ~ n] }} then mean_close_{{ n }} end as sma_{{ n }},
        {% endfor %}
        {% for n in ema_periods %}
            ema_{{ n }},
        {% endfor %}
        macd_fast_ema,
        case when rn >= {{ lookback.macd }} then macd_raw end as macd,
        macd_signal,
        rsi_avg_gain,
        rsi_avg_loss,
        case when rn >= {{ lookback.rsi }} and rsi_avg_gain + rsi_avg_loss > 0
                then 100 * rsi_avg_gain / (rsi_avg_gain + rsi_avg_loss)
            when rn >= {{ lookback.rsi }} then 0
        end as {{ rsi }},
        case when rn >= {{ lookback.bollinger }} then mean_close_{{ bb_period }} + {{ band }} end as bb_upper,
        case when rn >= {{ lookback.bollinger }} then mean_close_{{ bb_period }} end as bb_middle,
        case when rn >= {{ lookback.bollinger }} then mean_close_{{ bb_period }} - {{ band }} end as bb_lower,
        {{ atr }},
        case when rn >= {{ lookback.stochastic }} then slow_k end as stoch_k,
        case when rn >= {{ lookback.stochastic }} then slow_d end as stoch_d,
        obv
    from macd_averages
    -- rows up to the anchor are only the windows' history: already stored
    where rn > coalesce(anchor_index, -1)

),

final as (

    select
        ticker,
        timeframe,
        bar_start_at,
        last_session_date,
        close,
        {% for n in sma_periods %}
            cast(sma_{{ n }} as {{ double }}) as sma_{{ n }},
        {% endfor %}
        {% for n in ema_periods %}
            cast(ema_{{ n }} as {{ double }}) as ema_{{ n }},
        {% endfor %}
        cast(macd as {{ double }}) as macd,
        cast(case when rn >= {{ lookback.macd }} then macd_signal end as {{ double }}) as macd_signal,
        cast(case when rn >= {{ lookback.macd }} then macd - macd_signal end as {{ double }}) as macd_hist,
        cast({{ rsi }} as {{ double }}) as {{ rsi }},
        cast(bb_upper as {{ double }}) as bb_upper,
        cast(bb_middle as {{ double }}) as bb_middle,
        cast(bb_lower as {{ double }}) as bb_lower,
        cast({{ atr }} as {{ double }}) as {{ atr }},
        cast(stoch_k as {{ double }}) as stoch_k,
        cast(stoch_d as {{ double }}) as stoch_d,
        cast(obv as {{ double }}) as obv,
        is_complete,
        rn >= {{ warm_index }} as is_warm,
        cast(rn as integer) as bar_index,
        cast(macd_fast_ema as {{ double }}) as macd_fast_ema,
        cast(rsi_avg_gain as {{ double }}) as rsi_avg_gain,
        cast(rsi_avg_loss as {{ double }}) as rsi_avg_loss,
        {{ tradlyte_macros.run_timestamp() }} as updated_at
    from joined

)

select * from final
