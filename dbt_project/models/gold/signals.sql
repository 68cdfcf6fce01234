{{
    config(
        materialized='incremental',
        unique_key=['ticker', 'timeframe', 'bar_start_at', 'signal'],
        pre_hook="{{ delete_recomputed_signals() }}",
        partition_overwrite_replaced={
            'macro': 'signals_recomputed_series',
            'on': 'replaced.ticker = existing.ticker and replaced.timeframe = existing.timeframe'
                  ' and existing.bar_start_at >= replaced.first_at',
        },
    )
}}
{#- delete+insert, or whole-partition insert_overwrite on Spark: macros/spark_incremental.sql;
    partition_overwrite_replaced is the pre-hook's delete there: stored rows left out of the
    ticker partitions the run overwrites -#}
{{ config(**tradlyte_incremental_config()) }}

{#- gold.signals: one row per detected event, emitted once on the closed bar where the
    crossing happens. Only complete bars whose row and previous row are warm (every
    indicator at full look-back) can emit. A crossing means the relation between the two
    values differs from the previous bar's:
      golden_cross / death_cross     sma_50 crosses above / below sma_200 (value: sma_50)
      macd_cross_up / macd_cross_down  macd crosses above / below macd_signal (value: macd)
      rsi_overbought / rsi_oversold  rsi_14 crosses up through var rsi_overbought (70) /
                                     down through var rsi_oversold (30) (value: rsi_14)
      bb_break_up / bb_break_down    close crosses above bb_upper / below bb_lower (value: close)
      new_52w_high / new_52w_low     on daily bars, close above the highest / below the lowest
                                     close of the previous var high_low_window (252) sessions
                                     (value: close)
    The periods are vars: cross_sma_periods (50, 200) and the RSI of indicator_periods (14).
    Incremental: see macros/signals_restatement.sql. -#}

{%- set overbought = var('rsi_overbought') -%}
{%- set oversold = var('rsi_oversold') -%}
{%- set window = var('high_low_window') -%}
{%- set periods = var('indicator_periods') -%}
{%- for n in var('cross_sma_periods') if n not in periods.sma -%}
    {{ exceptions.raise_compiler_error('cross_sma_periods: SMA ' ~ n ~ ' is not one of indicator_periods.sma '
        ~ periods.sma) }}
{%- endfor -%}
{%- set fast_period, slow_period = var('cross_sma_periods') -%}
{%- set fast_sma = 'sma_' ~ fast_period -%}
{%- set slow_sma = 'sma_' ~ slow_period -%}
{%- set rsi = 'rsi_' ~ periods.rsi -%}

with

indicators as (

    select * from {{ ref('indicators') }}

),

{% if is_incremental() %}

recomputed_series as (

    {{ signals_recomputed_series(this) }}

),

inputs as (

    select
        indicators.*,
        recomputed_series.first_index
    from indicators
    inner join recomputed_series
        on recomputed_series.ticker = indicators.ticker and recomputed_series.timeframe = indicators.timeframe
    where indicators.bar_index >= recomputed_series.first_index - {{ window }}

),

{% else %}
-- noqa: disable=LT02

inputs as (

    select
        *,
        0 as first_index
    from indicators

),

-- noqa: enable=LT02
{% endif %}

with_previous as (

    select
        *,
        lag({{ fast_sma }}) over series_order as previous_{{ fast_sma }},
        lag({{ slow_sma }}) over series_order as previous_{{ slow_sma }},
        lag(macd) over series_order as previous_macd,
        lag(macd_signal) over series_order as previous_macd_signal,
        lag({{ rsi }}) over series_order as previous_{{ rsi }},
        lag(close) over series_order as previous_close,
        lag(bb_upper) over series_order as previous_bb_upper,
        lag(bb_lower) over series_order as previous_bb_lower,
        lag(is_warm) over series_order as previous_is_warm,
        max(close) over (
            partition by ticker, timeframe order by bar_start_at
            rows between {{ window }} preceding and 1 preceding
        ) as prior_high_close,
        min(close) over (
            partition by ticker, timeframe order by bar_start_at
            rows between {{ window }} preceding and 1 preceding
        ) as prior_low_close,
        count(close) over (
            partition by ticker, timeframe order by bar_start_at
            rows between {{ window }} preceding and 1 preceding
        ) as prior_count
    from inputs
    window series_order as (partition by ticker, timeframe order by bar_start_at)

),

eligible as (

    select *
    from with_previous
    where is_complete and is_warm and previous_is_warm and bar_index >= first_index

),

events as (

    {% set rules = [
        ('golden_cross', 'bullish', fast_sma, 'previous_' ~ fast_sma ~ ' <= previous_' ~ slow_sma
            ~ ' and ' ~ fast_sma ~ ' > ' ~ slow_sma),
        ('death_cross', 'bearish', fast_sma, 'previous_' ~ fast_sma ~ ' >= previous_' ~ slow_sma
            ~ ' and ' ~ fast_sma ~ ' < ' ~ slow_sma),
        ('macd_cross_up', 'bullish', 'macd', 'previous_macd <= previous_macd_signal and macd > macd_signal'),
        ('macd_cross_down', 'bearish', 'macd', 'previous_macd >= previous_macd_signal and macd < macd_signal'),
        ('rsi_overbought', 'bearish', rsi,
            'previous_' ~ rsi ~ ' <= ' ~ overbought ~ ' and ' ~ rsi ~ ' > ' ~ overbought),
        ('rsi_oversold', 'bullish', rsi, 'previous_' ~ rsi ~ ' >= ' ~ oversold ~ ' and ' ~ rsi ~ ' < ' ~ oversold),
        ('bb_break_up', 'bullish', 'close', 'previous_close <= previous_bb_upper and close > bb_upper'),
        ('bb_break_down', 'bearish', 'close', 'previous_close >= previous_bb_lower and close < bb_lower'),
        ('new_52w_high', 'bullish', 'close',
            "timeframe = '1d' and prior_count = " ~ window ~ " and close > prior_high_close"),
        ('new_52w_low', 'bearish', 'close',
            "timeframe = '1d' and prior_count = " ~ window ~ " and close < prior_low_close"),
    ] %}
    {% for name, direction, value_column, condition in rules %}
        select
            ticker,
            timeframe,
            bar_start_at,
            '{{ name }}' as signal,
            '{{ direction }}' as direction,
            {{ value_column }} as value
        from eligible
        where {{ condition }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        cast(ticker as {{ tradlyte_macros.string_type() }}) as ticker,
        cast(timeframe as {{ tradlyte_macros.string_type() }}) as timeframe,
        cast(bar_start_at as {{ tradlyte_macros.timestamptz_type() }}) as bar_start_at,
        cast(signal as {{ tradlyte_macros.string_type() }}) as signal,
        cast(direction as {{ tradlyte_macros.string_type() }}) as direction,
        cast(value as {{ tradlyte_macros.double_type() }}) as value,
        {{ tradlyte_macros.run_timestamp() }} as updated_at
    from events

)

select * from final
