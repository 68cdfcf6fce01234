{#- Ticker reference data, one row per (ticker, security_key): a symbol reused by a new
    company is a new security_key. Small, so a table rebuilt each run. -#}

with

ranked as (

    {{ tradlyte_macros.latest_version(source('raw_polygon', 'tickers'), ['ticker', 'security_key']) }}

),

final as (

    select
        cast(ticker as {{ tradlyte_macros.string_type() }}) as ticker,
        cast(security_key as {{ tradlyte_macros.string_type() }}) as security_key,
        cast(name as {{ tradlyte_macros.string_type() }}) as company_name,
        cast(market as {{ tradlyte_macros.string_type() }}) as market,
        cast(locale as {{ tradlyte_macros.string_type() }}) as locale,
        cast(primary_exchange as {{ tradlyte_macros.string_type() }}) as primary_exchange,
        cast(type as {{ tradlyte_macros.string_type() }}) as security_type,
        cast(active as boolean) as is_active,
        cast(currency_name as {{ tradlyte_macros.string_type() }}) as currency_name,
        cast(cik as {{ tradlyte_macros.string_type() }}) as cik,
        cast(composite_figi as {{ tradlyte_macros.string_type() }}) as composite_figi,
        cast(share_class_figi as {{ tradlyte_macros.string_type() }}) as share_class_figi,
        cast(list_date as date) as list_date,
        delisted_utc as delisted_at,
        {{ tradlyte_macros.ny_date('delisted_utc') }} as delisted_date,
        last_updated_utc as last_updated_at,
        ingested_at
    from ranked

)

select * from final
