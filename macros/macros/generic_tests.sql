{#- Generic data tests (dbt Hub packages cannot be fetched here, so we keep our own, in the
    style of dbt-utils). Each returns the failing rows. -#}

{% test unique_combination_of_columns(model, combination_of_columns) %}
    select {{ combination_of_columns | join(', ') }}, count(*) as n_records
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
{% endtest %}

{# OHLC sanity: high is the largest and low the smallest price, all positive, volume >= 0. #}
{% test ohlc_sane(model, open='open', high='high', low='low', close='close', volume='volume') %}
    select *
    from {{ model }}
    where {{ high }} < greatest({{ open }}, {{ close }}, {{ low }})
        or {{ low }} > least({{ open }}, {{ close }}, {{ high }})
        or {{ low }} <= 0
        or {{ volume }} < 0
{% endtest %}

{# No value later than today (plus a tolerance in days, for time zones). #}
{% test not_in_future(model, column_name, tolerance_days=1) %}
    select *
    from {{ model }}
    where cast({{ column_name }} as date) > current_date + {{ tolerance_days }}
{% endtest %}

{# The column only holds the timeframes of the bars (macro `timeframes`): by default those of
   the project's vars intraday_minutes and fib_intervals, as gold.bars builds them. #}
{% test accepted_timeframes(model, column_name, intraday_minutes=none, fib_intervals=none) %}
    {%- set labels = tradlyte_macros.timeframes(
        var('intraday_minutes') if intraday_minutes is none else intraday_minutes,
        var('fib_intervals') if fib_intervals is none else fib_intervals) -%}
    select *
    from {{ model }}
    where {{ column_name }} not in
        ({% for label in labels %}'{{ label }}'{{ ', ' if not loop.last }}{% endfor %})
{% endtest %}
