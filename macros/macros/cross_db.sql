{#- Cross-database helpers, dispatched like dbt-utils: default__ works on PostgreSQL and DuckDB
    where both accept the same SQL; engine-specific versions only where they differ. -#}

{# New York midnight of a date, as a UTC timestamptz (how Polygon stamps daily bars). #}
{% macro ny_midnight(date_expr) -%}
    {{ return(adapter.dispatch('ny_midnight', 'tradlyte_macros')(date_expr)) }}
{%- endmacro %}
{% macro default__ny_midnight(date_expr) -%}
    (cast({{ date_expr }} as timestamp) at time zone 'America/New_York')
{%- endmacro %}

{# The New York calendar date of a timestamptz. #}
{% macro ny_date(ts_expr) -%}
    {{ return(adapter.dispatch('ny_date', 'tradlyte_macros')(ts_expr)) }}
{%- endmacro %}
{% macro default__ny_date(ts_expr) -%}
    cast(({{ ts_expr }}) at time zone 'America/New_York' as date)
{%- endmacro %}

{# Epoch milliseconds (Polygon's `t`) as timestamptz. #}
{% macro epoch_ms_to_timestamp(ms_expr) -%}
    {{ return(adapter.dispatch('epoch_ms_to_timestamp', 'tradlyte_macros')(ms_expr)) }}
{%- endmacro %}
{% macro default__epoch_ms_to_timestamp(ms_expr) -%}
    to_timestamp(({{ ms_expr }}) / 1000.0)
{%- endmacro %}

{# Floor division of non-negative integers. #}
{% macro int_div(numerator, denominator) -%}
    {{ return(adapter.dispatch('int_div', 'tradlyte_macros')(numerator, denominator)) }}
{%- endmacro %}
{% macro default__int_div(numerator, denominator) -%}
    cast(floor(cast({{ numerator }} as double precision) / {{ denominator }}) as bigint)
{%- endmacro %}
{% macro duckdb__int_div(numerator, denominator) -%}
    cast(({{ numerator }}) // ({{ denominator }}) as bigint)
{%- endmacro %}

{# Whole minutes between two timestamptz values (b - a). #}
{% macro minutes_between(a, b) -%}
    {{ return(adapter.dispatch('minutes_between', 'tradlyte_macros')(a, b)) }}
{%- endmacro %}
{% macro default__minutes_between(a, b) -%}
    cast(floor(extract(epoch from (({{ b }}) - ({{ a }}))) / 60) as bigint)
{%- endmacro %}
{% macro duckdb__minutes_between(a, b) -%}
    cast(floor(epoch(({{ b }}) - ({{ a }})) / 60) as bigint)
{%- endmacro %}

{# timestamptz plus n minutes. #}
{% macro add_minutes(ts_expr, n) -%}
    (({{ ts_expr }}) + interval '1 minute' * ({{ n }}))
{%- endmacro %}

{# The value of `value` on the row with the smallest / largest `order_by` in a group. #}
{% macro first_by(value, order_by) -%}
    {{ return(adapter.dispatch('first_by', 'tradlyte_macros')(value, order_by)) }}
{%- endmacro %}
{% macro default__first_by(value, order_by) -%}
    (array_agg({{ value }} order by {{ order_by }}))[1]
{%- endmacro %}
{% macro duckdb__first_by(value, order_by) -%}
    arg_min({{ value }}, {{ order_by }})
{%- endmacro %}

{% macro last_by(value, order_by) -%}
    {{ return(adapter.dispatch('last_by', 'tradlyte_macros')(value, order_by)) }}
{%- endmacro %}
{% macro default__last_by(value, order_by) -%}
    (array_agg({{ value }} order by {{ order_by }} desc))[1]
{%- endmacro %}
{% macro duckdb__last_by(value, order_by) -%}
    arg_max({{ value }}, {{ order_by }})
{%- endmacro %}

{# The dbt run's start time as a timestamptz literal: marks rows (re)written by this run. #}
{% macro run_timestamp() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}+00' as timestamp with time zone)
{%- endmacro %}

{# The type names used by contracts, per engine. #}
{% macro double_type() -%}
    {{ return(adapter.dispatch('double_type', 'tradlyte_macros')()) }}
{%- endmacro %}
{% macro default__double_type() %}double precision{% endmacro %}
{% macro duckdb__double_type() %}double{% endmacro %}
