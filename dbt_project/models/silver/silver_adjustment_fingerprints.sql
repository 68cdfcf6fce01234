{#- One row per ticker that has corporate actions: a text fingerprint of every split and
    dividend factor. When it differs from the fingerprint stored with a ticker's silver
    rows, a split or dividend arrived or changed, and the ticker's whole history is
    re-adjusted on the next incremental run. -#}

with

split_segments as (

    select * from {{ ref('silver_split_segments') }}

),

dividend_segments as (

    select * from {{ ref('silver_dividend_segments') }}

),

events as (

    select
        ticker,
        valid_to as event_date,
        ln(split_factor) as log_factor,
        1 as is_split
    from split_segments
    union all
    select
        ticker,
        valid_to as event_date,
        ln(dividend_factor) as log_factor,
        0 as is_split
    from dividend_segments

),

final as (

    select
        ticker,
        concat(
            cast(count(*) as {{ tradlyte_macros.string_type() }}), '|',
            cast(sum(is_split) as {{ tradlyte_macros.string_type() }}), '|',
            cast(max(event_date) as {{ tradlyte_macros.string_type() }}), '|',
            cast(cast(sum(log_factor * (1 + is_split)) as decimal(38, 12)) as {{ tradlyte_macros.string_type() }})
        ) as adjustment_fingerprint
    from events
    group by ticker

)

select * from final
