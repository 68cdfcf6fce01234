{#- Resampling of bars into longer bars, reusable for any N.

    Session-anchored bars (`anchor='session'`) group N consecutive NYSE sessions by the
    global session index (bucket = session_index div N, session 0 = 1962-01-02), so every
    ticker's bar covers the same dates. Calendar-anchored bars (`anchor='calendar'`) group
    N calendar days counted from 1970-01-01, like pandas `resample('ND', origin='epoch')`.
    Intraday bars group M minutes from the session open (bucket = minute_of_session div M).

    Open is the first row's open, close the last row's close, high/low the extremes, volume
    the sum, vwap the volume-weighted mean of the rows that have one (NULL when none do),
    transaction_count the sum of known counts. -#}

{# Timeframe labels: N sessions is '<N>d' (1d the daily bars), M minutes '<M>m' (60 is '1h'). #}
{% macro sessions_timeframe(n) -%}
    {{ return(n ~ 'd') }}
{%- endmacro %}

{% macro minutes_timeframe(m) -%}
    {{ return('1h' if m == 60 else m ~ 'm') }}
{%- endmacro %}

{# Every timeframe of the bars for these bar sizes (the vars intraday_minutes and
   fib_intervals), shortest first: the intraday ones, 1d, the multi-day ones. #}
{% macro timeframes(intraday_minutes, fib_intervals) -%}
    {%- set labels = [] -%}
    {%- for m in intraday_minutes %}{% do labels.append(tradlyte_macros.minutes_timeframe(m)) %}{% endfor -%}
    {%- for n in [1] + fib_intervals %}{% do labels.append(tradlyte_macros.sessions_timeframe(n)) %}{% endfor -%}
    {{ return(labels) }}
{%- endmacro %}

{# The bucket a daily row belongs to. #}
{% macro session_bucket(n, anchor, session_index='session_index', session_date='session_date') -%}
    {%- if anchor == 'calendar' -%}
        {{ tradlyte_macros.int_div(tradlyte_macros.days_since_epoch(session_date), n) }}
    {%- elif anchor == 'session' -%}
        {{ tradlyte_macros.int_div(session_index, n) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("fib_anchor must be 'session' or 'calendar', got " ~ anchor) }}
    {%- endif -%}
{%- endmacro %}

{# Aggregate rows of `relation` (a CTE or table with ticker, session_index, session_date,
   OHLCV, vwap, transactions) into N-session bars with their calendar boundaries.
   `calendar` must name the trading calendar; `as_of_index` / `next_session_date` are SQL
   expressions for the latest loaded session index and the first calendar session after the
   latest loaded date (to decide whether a bar is still open). #}
{% macro resample_sessions(relation, n, anchor, calendar, as_of_index, next_session_date) -%}
    select
        grouped.ticker,
        '{{ tradlyte_macros.sessions_timeframe(n) }}' as timeframe,
        {% if anchor == 'calendar' -%}
            {{ tradlyte_macros.ny_midnight("cast('1970-01-01' as date) + cast(grouped.bucket * " ~ n ~ " as integer)") }} as bar_start_at,
            {{ tradlyte_macros.ny_midnight("cast('1970-01-01' as date) + cast((grouped.bucket + 1) * " ~ n ~ " as integer)") }} as bar_end_at,
        {%- else -%}
            bucket_first.day_start_at as bar_start_at,
            bucket_last.day_end_at as bar_end_at,
        {%- endif %}
        grouped.first_session_date,
        grouped.last_session_date,
        grouped.open,
        grouped.high,
        grouped.low,
        grouped.close,
        grouped.volume,
        grouped.vwap,
        grouped.transaction_count,
        grouped.session_count,
        {% if anchor == 'calendar' -%}
            (cast('1970-01-01' as date) + cast((grouped.bucket + 1) * {{ n }} as integer)) <= {{ next_session_date }}
        {%- else -%}
            coalesce(bucket_last.session_index <= {{ as_of_index }}, false)
        {%- endif %} as is_complete
    from (
        select
            ticker,
            {{ tradlyte_macros.session_bucket(n, anchor) }} as bucket,
            min(session_date) as first_session_date,
            max(session_date) as last_session_date,
            {{ tradlyte_macros.first_by('open', 'session_index') }} as open,
            max(high) as high,
            min(low) as low,
            {{ tradlyte_macros.last_by('close', 'session_index') }} as close,
            sum(volume) as volume,
            sum(case when vwap is not null and volume > 0 then vwap * volume end)
            / nullif(sum(case when vwap is not null and volume > 0 then volume end), 0) as vwap,
            sum(transactions) as transaction_count,
            count(*) as session_count
        from {{ relation }}
        group by ticker, {{ tradlyte_macros.session_bucket(n, anchor) }}
    ) as grouped
    {% if anchor != 'calendar' -%}
        left join {{ calendar }} as bucket_first
            on bucket_first.session_index = grouped.bucket * {{ n }}
        left join {{ calendar }} as bucket_last
            on bucket_last.session_index = grouped.bucket * {{ n }} + {{ n - 1 }}
    {%- endif %}
{%- endmacro %}

{# Aggregate regular-hours minute rows (ticker, session_date, minute_of_session,
   market_open_at, market_close_at, OHLCV, vwap, transactions) into M-minute bars aligned to
   the session open; the last bar of a session ends at the close (13:00 on half days).
   `as_of_at` is the end of the latest loaded minute. #}
{% macro resample_minutes(relation, m, as_of_at) -%}
    select
        ticker,
        '{{ tradlyte_macros.minutes_timeframe(m) }}' as timeframe,
        {{ tradlyte_macros.add_minutes('market_open_at', 'bucket * ' ~ m) }} as bar_start_at,
        least(
            {{ tradlyte_macros.add_minutes('market_open_at', '(bucket + 1) * ' ~ m) }},
            market_close_at
        ) as bar_end_at,
        session_date as first_session_date,
        session_date as last_session_date,
        open,
        high,
        low,
        close,
        volume,
        vwap,
        transaction_count,
        1 as session_count,
        least(
            {{ tradlyte_macros.add_minutes('market_open_at', '(bucket + 1) * ' ~ m) }},
            market_close_at
        ) <= {{ as_of_at }} as is_complete
    from (
        select
            ticker,
            session_date,
            market_open_at,
            market_close_at,
            {{ tradlyte_macros.int_div('minute_of_session', m) }} as bucket,
            {{ tradlyte_macros.first_by('open', 'minute_of_session') }} as open,
            max(high) as high,
            min(low) as low,
            {{ tradlyte_macros.last_by('close', 'minute_of_session') }} as close,
            sum(volume) as volume,
            sum(case when vwap is not null and volume > 0 then vwap * volume end)
            / nullif(sum(case when vwap is not null and volume > 0 then volume end), 0) as vwap,
            sum(transactions) as transaction_count
        from {{ relation }}
        group by
            ticker, session_date, market_open_at, market_close_at,
            {{ tradlyte_macros.int_div('minute_of_session', m) }}
    ) as grouped
{%- endmacro %}
