{{
    config(
        materialized='incremental',
        unique_key=['ticker', 'session_date'],
    )
}}
{#- delete+insert, or whole-partition insert_overwrite on Spark: macros/spark_incremental.sql -#}
{{ config(**tradlyte_incremental_config()) }}

{#- gold.ml_labels: forward returns per (ticker, session_date), apart from the features so a
    training set joins them knowingly and no feature query can read the future by accident.

    A decision taken at session t's close can trade at the next session's open at the
    earliest. Per horizon h in (1, 5, 20) sessions of the security's own series:
      label_return_h  = open[t+1+h] / open[t+1] - 1   buy at the next open, sell at the open
                                                       h sessions later (open to open)
      label_qlib_h    = close[t+1+h] / close[t+1] - 1 Qlib's Alpha158 label
                                                       Ref($close, -h-1) / Ref($close, -1) - 1
    NULL while the security has fewer than h+1 later sessions (the future is not known yet,
    or it was delisted). The series are ml_security_sessions', as for gold.ml_features.

    Incremental: a new session completes the labels of the rows up to 21 rows before it,
    so every security re-opens its last 21 rows before the look-back window, plus the
    window itself (`lookback_sessions`). -#}

{%- set horizons = [1, 5, 20] -%}
{%- set reopen_rows = 21 -%}

with

series as (

    select * from {{ ref('ml_security_sessions') }}

),

{{ ml_security_inputs('series', reopen_rows) }},

-- noqa: disable=LT02
forward as (

    select
        *,
        lead(open, 1) over security_rows as entry_open,
        lead(close, 1) over security_rows as entry_close,
        {% for h in horizons %}
            lead(open, {{ h + 1 }}) over security_rows as exit_open_{{ h }},
            lead(close, {{ h + 1 }}) over security_rows as exit_close_{{ h }}{{ ',' if not loop.last }}
        {% endfor %}
    from inputs
    window security_rows as (partition by ticker, security_key order by rn)

),
-- noqa: enable=LT02

final as (

    select
        cast(ticker as {{ tradlyte_macros.string_type() }}) as ticker,
        cast(session_date as date) as session_date,
        cast(session_index as integer) as session_index,
        cast(security_key as {{ tradlyte_macros.string_type() }}) as security_key,
        {% for h in horizons %}
            cast(exit_open_{{ h }} / entry_open - 1 as {{ tradlyte_macros.double_type() }}) as label_return_{{ h }},
            cast(exit_close_{{ h }} / entry_close - 1 as {{ tradlyte_macros.double_type() }}) as label_qlib_{{ h }},
        {% endfor %}
        {{ tradlyte_macros.run_timestamp() }} as updated_at
    from forward

)

select * from final
