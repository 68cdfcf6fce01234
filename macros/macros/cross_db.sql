{#- Cross-database helpers, dispatched like dbt-utils: default__ works on PostgreSQL and DuckDB
    where both accept the same SQL; engine-specific versions only where they differ.
    spark__: Spark SQL with spark.sql.session.timeZone = UTC (the profile sets it), where
    `timestamp` is an instant (like timestamptz) shown in UTC. -#}

{# New York midnight of a date, as a UTC timestamptz (how Polygon stamps daily bars). #}
{% macro ny_midnight(date_expr) -%}
    {{ return(adapter.dispatch('ny_midnight', 'tradlyte_macros')(date_expr)) }}
{%- endmacro %}
{% macro default__ny_midnight(date_expr) -%}
    (cast({{ date_expr }} as timestamp) at time zone 'America/New_York')
{%- endmacro %}
{% macro spark__ny_midnight(date_expr) -%}
    to_utc_timestamp(cast({{ date_expr }} as timestamp), 'America/New_York')
{%- endmacro %}

{# The New York calendar date of a timestamptz. #}
{% macro ny_date(ts_expr) -%}
    {{ return(adapter.dispatch('ny_date', 'tradlyte_macros')(ts_expr)) }}
{%- endmacro %}
{% macro default__ny_date(ts_expr) -%}
    cast(({{ ts_expr }}) at time zone 'America/New_York' as date)
{%- endmacro %}
{% macro spark__ny_date(ts_expr) -%}
    cast(from_utc_timestamp({{ ts_expr }}, 'America/New_York') as date)
{%- endmacro %}

{# Epoch milliseconds (Polygon's `t`) as timestamptz. #}
{% macro epoch_ms_to_timestamp(ms_expr) -%}
    {{ return(adapter.dispatch('epoch_ms_to_timestamp', 'tradlyte_macros')(ms_expr)) }}
{%- endmacro %}
{% macro default__epoch_ms_to_timestamp(ms_expr) -%}
    to_timestamp(({{ ms_expr }}) / 1000.0)
{%- endmacro %}
{% macro spark__epoch_ms_to_timestamp(ms_expr) -%}
    timestamp_millis(cast({{ ms_expr }} as bigint))
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
{% macro spark__int_div(numerator, denominator) -%}
    cast(({{ numerator }}) div ({{ denominator }}) as bigint)
{%- endmacro %}

{# Whole days from 1970-01-01 to a date (date - date is an interval on Spark). #}
{% macro days_since_epoch(date_expr) -%}
    {{ return(adapter.dispatch('days_since_epoch', 'tradlyte_macros')(date_expr)) }}
{%- endmacro %}
{% macro default__days_since_epoch(date_expr) -%}
    ({{ date_expr }} - cast('1970-01-01' as date))
{%- endmacro %}
{% macro spark__days_since_epoch(date_expr) -%}
    datediff({{ date_expr }}, cast('1970-01-01' as date))
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
{% macro spark__minutes_between(a, b) -%}
    cast(floor((unix_micros({{ b }}) - unix_micros({{ a }})) / 60000000.0) as bigint)
{%- endmacro %}

{# timestamptz plus n minutes. #}
{% macro add_minutes(ts_expr, n) -%}
    {{ return(adapter.dispatch('add_minutes', 'tradlyte_macros')(ts_expr, n)) }}
{%- endmacro %}
{% macro default__add_minutes(ts_expr, n) -%}
    (({{ ts_expr }}) + interval '1 minute' * ({{ n }}))
{%- endmacro %}
{% macro spark__add_minutes(ts_expr, n) -%}
    timestamp_micros(unix_micros({{ ts_expr }}) + 60000000 * ({{ n }}))
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
{% macro spark__first_by(value, order_by) -%}
    min_by({{ value }}, {{ order_by }})
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
{% macro spark__last_by(value, order_by) -%}
    max_by({{ value }}, {{ order_by }})
{%- endmacro %}

{# Every column of `alias` (a CTE or table alias) but `helper_columns`, where the engine can say
   so without knowing the columns (DuckDB's `* exclude`). PostgreSQL and Spark SQL have no such
   form, so there the helper columns stay: only for columns a caller may carry harmlessly and
   never selects by a clashing name. #}
{% macro star_pruned(alias, helper_columns) -%}
    {{ return(adapter.dispatch('star_pruned', 'tradlyte_macros')(alias, helper_columns)) }}
{%- endmacro %}
{% macro default__star_pruned(alias, helper_columns) -%}
    {{ alias }}.*
{%- endmacro %}
{% macro duckdb__star_pruned(alias, helper_columns) -%}
    {{ alias }}.* exclude ({{ helper_columns | join(', ') }})
{%- endmacro %}

{# The dbt run's start time as a timestamptz literal: marks rows (re)written by this run. #}
{% macro run_timestamp() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}+00' as {{ tradlyte_macros.timestamptz_type() }})
{%- endmacro %}

{# The type names used by contracts, per engine. #}
{% macro double_type() -%}
    {{ return(adapter.dispatch('double_type', 'tradlyte_macros')()) }}
{%- endmacro %}
{% macro default__double_type() %}double precision{% endmacro %}
{% macro duckdb__double_type() %}double{% endmacro %}
{% macro spark__double_type() %}double{% endmacro %}

{% macro string_type() -%}
    {{ return(adapter.dispatch('string_type', 'tradlyte_macros')()) }}
{%- endmacro %}
{% macro default__string_type() %}varchar{% endmacro %}
{% macro spark__string_type() %}string{% endmacro %}

{# An instant in time: timestamptz; Spark's `timestamp` is one (session time zone UTC). #}
{% macro timestamptz_type() -%}
    {{ return(adapter.dispatch('timestamptz_type', 'tradlyte_macros')()) }}
{%- endmacro %}
{% macro default__timestamptz_type() %}timestamp with time zone{% endmacro %}
{% macro spark__timestamptz_type() %}timestamp{% endmacro %}
