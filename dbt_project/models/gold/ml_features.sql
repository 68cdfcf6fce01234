{{
    config(
        materialized='incremental',
        unique_key=['ticker', 'session_date'],
        pre_hook="{{ postgres_no_nested_loops() }}",
    )
}}
{#- delete+insert, or whole-partition insert_overwrite on Spark: macros/spark_incremental.sql -#}
{{ config(**tradlyte_incremental_config()) }}

{#- gold.ml_features: point-in-time ML features per (ticker, session_date), after Qlib's Alpha158.

    Every feature of a row uses only the security's daily bars up to that session's close,
    the gold indicators of that daily bar, and the last Fibonacci bar whose whole bucket
    ended by that session. Features are ratios (scale-invariant), so a later split, which
    rescales a security's whole history, changes none of them (beyond rounding).

    Series: the daily series of each security, as ml_security_sessions matches symbols
    to securities (a reused symbol starts a new series; a delisted security keeps the
    sessions it traded). Rolling windows count rows of that series (sessions it traded), as
    Qlib does; a window feature is NULL until the series has the rows it needs (d rows, d+1
    for features of day-over-day changes).

    Incremental: the sessions from `lookback_sessions` before the newest one already built are
    rebuilt for every security (cross-sectional ranks need the whole session), reading each
    security's 60 rows before them (the longest window plus one change). Row numbers come
    from the full series, so the incremental result equals a full build.

    Shape, for the seed's scale (21M rows): every window pass copies whole rows and every hash
    join that does not fit in memory spills its probe rows, so both happen on narrow rows. The
    session context (gold indicators, the last complete Fibonacci bars, cross-sectional ranks of
    eight features, which come from a small window pass of their own) is joined to the narrow
    rows first; one window pass then computes every rolling aggregate (rolling_stats); the
    60-row lists stop at `ordered` (a projection); after the windows come only projections.
    Each window aggregate and feature is written once, in the local package's
    macros/macros/ml_feature_formulas.sql, and used by both passes. -#}

{%- set windows = [5, 10, 20, 30, 60] -%}
{%- set max_window = 60 -%}
{%- set fib_context = [8, 21] -%}
{%- set anchor = var('fib_anchor') -%}
{%- set eps = tradlyte_macros.ml_epsilon() -%}
{%- set double = tradlyte_macros.double_type() -%}
{#- the gold indicators (var indicator_periods) and their warm-up bar -#}
{%- set periods = var('indicator_periods') -%}
{%- set sma_periods = periods.sma -%}
{%- set ema_periods = periods.ema -%}
{%- set rsi = 'rsi_' ~ periods.rsi -%}
{%- set atr = 'atr_' ~ periods.atr -%}
{%- set warm_index = tradlyte_macros.ta_lookbacks(periods).warm -%}
{#- the per-row columns of `moves` the windows read, carried to `ordered` without the lists -#}
{%- set narrow_columns = [
    'ticker', 'security_key', 'session_date', 'session_index', 'rn', 'ticker_rn', 'security_first_date',
    'bar_start_at', 'open', 'high', 'low', 'close', 'volume', 'vwap', 'previous_close', 'previous_volume',
    'close_move', 'volume_move', 'log_volume', 'close_ratio', 'log_volume_ratio', 'return_volume',
    'is_up', 'is_down'] -%}
{#- the session context joined to the narrow rows and carried through the windows: gold indicators
    of the daily bar (as ratios), the last complete Fibonacci bars and the cross-sectional ranks -#}
{%- set indicator_features = [] -%}
{%- for p in sma_periods %}{% do indicator_features.append('ind_sma_' ~ p) %}{% endfor -%}
{%- for p in ema_periods %}{% do indicator_features.append('ind_ema_' ~ p) %}{% endfor -%}
{%- do indicator_features.extend(['ind_macd', 'ind_macd_signal', 'ind_macd_hist', 'ind_' ~ rsi, 'ind_bb_position',
                                  'ind_bb_width', 'ind_' ~ atr, 'ind_stoch_k', 'ind_stoch_d']) -%}
{#- the close against the last complete 8d and 21d bars (session_context) -#}
{%- set fib_features = [] -%}
{%- for n in fib_context -%}
    {%- do fib_features.extend(['fib' ~ n ~ '_return', 'fib' ~ n ~ '_position', 'fib' ~ n ~ '_kmid']) -%}
{%- endfor -%}
{#- the window aggregates of `rolling_stats` (macro ml_window_stat), one column per window size: <stat>_<d> -#}
{%- set window_stats = tradlyte_macros.ml_window_stats() -%}
{#- the window features (macro ml_window_feature), one column per window size: <feature>_<d> -#}
{%- set window_features = tradlyte_macros.ml_window_features() -%}
{#- features of the row itself (macro ml_row_feature): candle shape (Qlib KBAR), prices over close -#}
{%- set row_features = tradlyte_macros.ml_row_features() -%}
{#- ranked across each session; the window stats they read, computed again by cross_inputs -#}
{%- set cross_section_row = ['kmid'] -%}
{%- set cross_section_windows = [('roc', 5), ('roc', 20), ('ma', 20), ('std', 20), ('vma', 20), ('rsv', 20),
                                 ('corr', 20)] -%}
{%- set cross_section_stats = [('close_lag', 5), ('close_lag', 20), ('close_mean', 20), ('close_std', 20),
                               ('volume_mean', 20), ('high_max', 20), ('low_min', 20),
                               ('close_volume_corr', 20)] -%}
{%- set cross_section = cross_section_row + cross_section_windows | map('join', '_') | list -%}
{#- what `session_context` adds to the narrow rows for the windows to carry -#}
{%- set carried_columns = narrow_columns + indicator_features + ['ind_is_warm'] + fib_features -%}
{%- for f in cross_section %}{% do carried_columns.append('cs_rank_' ~ f) %}{% endfor -%}

with

bars as (

    select * from {{ ref('bars') }}

),

indicators as (

    select * from {{ ref('indicators') }}

),

calendar as (

    select * from {{ ref('trading_calendar') }}

),

series as (

    select * from {{ ref('ml_security_sessions') }}

),

{{ ml_security_inputs('series', max_window) }},

{{ tradlyte_macros.ml_moves_cte('moves', 'inputs') }},

-- noqa: disable=LT02
-- the cross-sectional features, from a window pass of their own over narrow rows: each rank
-- sorts whole sessions, so they are ranked before the main window pass, which carries them
cross_stats as (

    select
        ticker,
        session_date,
        session_index,
        rn,
        open,
        high,
        low,
        close,
        vwap,
        volume,
        {% for stat, d in cross_section_stats %}
            {{ tradlyte_macros.ml_window_stat(stat, d) }} as {{ stat }}_{{ d }}{{ ',' if not loop.last }}
        {% endfor %}
    from moves

),

cross_inputs as (

    select
        ticker,
        session_date,
        {% for f in cross_section_row %}
            {{ tradlyte_macros.ml_row_feature(f) }} as {{ f }},
        {% endfor %}
        {% for f, d in cross_section_windows %}
            {{ tradlyte_macros.ml_window_feature(f, d) }} as {{ f }}_{{ d }}{{ ',' if not loop.last }}
        {% endfor %}
    from cross_stats
    {% if is_incremental() %}
        where session_index >= (select first_session_index from target_start)
    {% endif %}

),

-- each rank sorts the session once; a session's only value ranks 0
cross_section as (

    select
        ticker,
        session_date,
        {% for f in cross_section %}
            case
                when {{ f }} is not null
                    then coalesce(
                        cast(rank() over (partition by session_date order by {{ f }} asc nulls last) - 1
                            as {{ double }})
                        / nullif(count({{ f }}) over (partition by session_date) - 1, 0),
                        0.0
                    )
            end as cs_rank_{{ f }}{{ ',' if not loop.last }}
        {% endfor %}
    from cross_inputs

),

{% for n in fib_context %}

fib_{{ n }}d as (

    -- the ticker's {{ n }}d bars that can be the last complete one of an input row
    select
        bars.ticker,
        {{ tradlyte_macros.session_bucket(n, anchor, 'calendar.session_index', 'bars.first_session_date') }} as bucket,
        bars.first_session_date,
        bars.open,
        bars.high,
        bars.low,
        bars.close
    from bars
    inner join calendar on bars.first_session_date = calendar.session_date
    where
        bars.timeframe = '{{ tradlyte_macros.sessions_timeframe(n) }}'
        and bars.last_session_date >= (select min(inputs.session_date) from inputs)

),

{% endfor %}

-- the session's context, joined to the narrow rows before the windows: a hash join that does
-- not fit in memory spills its probe side too, and after the windows a probe row would be
-- ~190 columns wide (the seed-scale build spilled 55 GB that way, then 39 GB with only the
-- Fibonacci joins left after the windows)
session_context as (

    select
        moves.*,
        -- gold indicators of this session's daily bar; a reused symbol's indicators still
        -- carry the previous company's bars until the new series has 200 rows
        {% set own_history = '(moves.rn = moves.ticker_rn or moves.rn >= ' ~ warm_index ~ ')' %}
        {% for p in sma_periods %}
            case when {{ own_history }} then indicators.sma_{{ p }} / moves.close - 1 end as ind_sma_{{ p }},
        {% endfor %}
        {% for p in ema_periods %}
            case when {{ own_history }} then indicators.ema_{{ p }} / moves.close - 1 end as ind_ema_{{ p }},
        {% endfor %}
        case when {{ own_history }} then indicators.macd / moves.close end as ind_macd,
        case when {{ own_history }} then indicators.macd_signal / moves.close end as ind_macd_signal,
        case when {{ own_history }} then indicators.macd_hist / moves.close end as ind_macd_hist,
        case when {{ own_history }} then indicators.{{ rsi }} / 100 end as ind_{{ rsi }},
        case
            when {{ own_history }}
                then (moves.close - indicators.bb_lower) / nullif(indicators.bb_upper - indicators.bb_lower, 0)
        end as ind_bb_position,
        case
            when {{ own_history }}
                then (indicators.bb_upper - indicators.bb_lower) / indicators.bb_middle
        end as ind_bb_width,
        case when {{ own_history }} then indicators.{{ atr }} / moves.close end as ind_{{ atr }},
        case when {{ own_history }} then indicators.stoch_k / 100 end as ind_stoch_k,
        case when {{ own_history }} then indicators.stoch_d / 100 end as ind_stoch_d,
        coalesce({{ own_history }} and indicators.is_warm, false) as ind_is_warm,
        {% for n in fib_context %}
            -- the last complete {{ n }}d bar (its whole bucket ended by this session)
            moves.close / fib_{{ n }}d.close - 1 as fib{{ n }}_return,
            (moves.close - fib_{{ n }}d.low)
            / (fib_{{ n }}d.high - fib_{{ n }}d.low + {{ eps }}) as fib{{ n }}_position,
            (fib_{{ n }}d.close - fib_{{ n }}d.open) / fib_{{ n }}d.open as fib{{ n }}_kmid,
        {% endfor %}
        {% for f in cross_section %}
            cross_section.cs_rank_{{ f }}{{ ',' if not loop.last }}
        {% endfor %}
    from moves
    left join indicators
        on
            moves.ticker = indicators.ticker
            and indicators.timeframe = '1d'
            and moves.bar_start_at = indicators.bar_start_at
    {% for n in fib_context %}
        left join fib_{{ n }}d
            on
                moves.ticker = fib_{{ n }}d.ticker
                and fib_{{ n }}d.bucket
                = {{ tradlyte_macros.session_bucket(
                    n, anchor, '(moves.session_index + 1)', '(moves.session_date + 1)') }} - 1
                and fib_{{ n }}d.first_session_date >= moves.security_first_date
    {% endfor %}
    -- only the sessions being built have ranks (an incremental run's history rows do not)
    left join cross_section
        on moves.ticker = cross_section.ticker and moves.session_date = cross_section.session_date

),
-- noqa: enable=LT02

-- every rolling window in one pass (one partition and order, so one sort of narrow rows);
-- the 60-row lists come out of it only to feed the order statistics of `ordered`
-- noqa: disable=LT02
rolling_stats as (

    select
        {{ carried_columns | join(',\n        ') }},
        {{ tradlyte_macros.rolling_list('close', max_window) }} as close_list,
        {{ tradlyte_macros.rolling_list('high', max_window) }} as high_list,
        {{ tradlyte_macros.rolling_list('low', max_window) }} as low_list,
        {% for d in windows %}
            {%- set last_window = loop.last %}
            {% for stat in window_stats %}
                {{ tradlyte_macros.ml_window_stat(stat, d) }} as {{ stat }}_{{ d }}
                {{- ',' if not (loop.last and last_window) }}
            {% endfor %}
        {% endfor %}
    from session_context

),
-- noqa: enable=LT02

-- order statistics of the windows from the lists, which stop here (they are wide); a plain
-- projection of the window pass's output, so the lists are never stored or sorted
-- noqa: disable=LT02
ordered as (

    select
        {{ carried_columns | join(',\n        ') }},
        {% for d in windows %}
            {% for stat in window_stats %}
                {{ stat }}_{{ d }},
            {% endfor %}
            {{ tradlyte_macros.list_quantile(tradlyte_macros.list_tail('close_list', d), 0.8) }} as close_q80_{{ d }},
            {{ tradlyte_macros.list_quantile(tradlyte_macros.list_tail('close_list', d), 0.2) }} as close_q20_{{ d }},
            {{ tradlyte_macros.list_count_at_most(tradlyte_macros.list_tail('close_list', d), 'close') }}
                as close_rank_count_{{ d }},
            {{ tradlyte_macros.list_argmax(tradlyte_macros.list_tail('high_list', d)) }} as high_argmax_{{ d }},
            {{ tradlyte_macros.list_argmin(tradlyte_macros.list_tail('low_list', d)) }}
                as low_argmin_{{ d }}{{ ',' if not loop.last }}
        {% endfor %}
    from rolling_stats

),
-- noqa: enable=LT02

-- noqa: disable=LT02
rolling_features as (

    select
        *,
        {% for f in row_features %}
            {{ tradlyte_macros.ml_row_feature(f) }} as {{ f }},
        {% endfor %}
        {% for d in windows %}
            {%- set last_window = loop.last %}
            {% for f in window_features %}
                {{ tradlyte_macros.ml_window_feature(f, d) }} as {{ f }}_{{ d }}
                {{- ',' if not (loop.last and last_window) }}
            {% endfor %}
        {% endfor %}
    from ordered
    {% if is_incremental() %}
        where session_index >= (select first_session_index from target_start)
    {% endif %}

),
-- noqa: enable=LT02

final as (

    select
        cast(ticker as {{ tradlyte_macros.string_type() }}) as ticker,
        cast(session_date as date) as session_date,
        cast(session_index as integer) as session_index,
        cast(security_key as {{ tradlyte_macros.string_type() }}) as security_key,
        cast(rn as integer) as series_row,
        {% for c in row_features %}
            cast({{ c }} as {{ double }}) as {{ c }},
        {% endfor %}
        {% for d in windows %}
            {% for f in window_features %}
                cast({{ f }}_{{ d }} as {{ double }}) as {{ f }}_{{ d }},
            {% endfor %}
        {% endfor %}
        {% for c in fib_features + indicator_features %}
            cast({{ c }} as {{ double }}) as {{ c }},
        {% endfor %}
        cast(ind_is_warm as boolean) as ind_is_warm,
        {% for f in cross_section %}
            cast(cs_rank_{{ f }} as {{ double }}) as cs_rank_{{ f }},
        {% endfor %}
        {{ tradlyte_macros.run_timestamp() }} as updated_at
    from rolling_features

)

select * from final
