{#- One row per security (security_key), its current symbol and reference data: when a
    company is renamed, Polygon can list the old and the new symbol for the same FIGI; the
    active, most recently updated record wins. Feeds the SCD2 snapshot. -#}

with

tickers as (

    select * from {{ ref('bronze_tickers') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by security_key
            order by
                case when is_active then 0 else 1 end asc,
                last_updated_at desc nulls last,
                ticker asc
        ) as record_rank
    from tickers

),

final as (

    select
        security_key,
        ticker,
        company_name,
        primary_exchange,
        security_type,
        is_active,
        list_date,
        delisted_at,
        cik,
        composite_figi,
        last_updated_at
    from ranked
    where record_rank = 1

)

select * from final
