{#- The `lake` target: DuckDB over S3 Parquet.

    Raw: dlt's filesystem destination writes s3://<bucket>/raw_polygon/<table>/<load_id>.<file_id>.parquet
    (append only: the filesystem destination has no merge, bronze keeps the latest load per key).
    `lake_raw_views` (on-run-start) exposes each folder as the view raw_polygon.<table> in the
    lake's DuckDB file, so the sources and every model stay the same on all targets.

    Gold: `lake_export` (post-hook of the gold models) copies the whole mart, the full history,
    to s3://<bucket>/gold/<model>/ticker=<TICKER>/data_0.parquet (hive partitions by ticker).
    Both macros render nothing on the other targets. -#}

{% macro lake_bucket_url() -%}
    s3://{{ env_var('TRADLYTE_LAKE_BUCKET', 'tradlyte-lake') }}
{%- endmacro %}

{#- The raw tables the models read, typed as dlt writes them; a table that has no file yet
    (no minute bars loaded, nothing quarantined) gets an empty view of this shape. -#}
{% macro lake_raw_tables() -%}
    {{ return({
        'daily_aggs': {'ticker': 'varchar', 'session_date': 'date', 'ts_ms': 'bigint', 'open': 'double',
                       'high': 'double', 'low': 'double', 'close': 'double', 'volume': 'double',
                       'vwap': 'double', 'transactions': 'bigint', 'otc': 'boolean', 'source': 'varchar',
                       'ingested_at': 'timestamptz'},
        'minute_aggs': {'ticker': 'varchar', 'ts_ms': 'bigint', 'open': 'double', 'high': 'double',
                        'low': 'double', 'close': 'double', 'volume': 'double', 'vwap': 'double',
                        'transactions': 'bigint', 'source': 'varchar', 'ingested_at': 'timestamptz'},
        'tickers': {'ticker': 'varchar', 'name': 'varchar', 'market': 'varchar', 'locale': 'varchar',
                    'primary_exchange': 'varchar', 'type': 'varchar', 'active': 'boolean',
                    'currency_name': 'varchar', 'cik': 'varchar', 'composite_figi': 'varchar',
                    'share_class_figi': 'varchar', 'delisted_utc': 'timestamptz',
                    'last_updated_utc': 'timestamptz', 'list_date': 'date', 'security_key': 'varchar',
                    'ingested_at': 'timestamptz'},
        'splits': {'id': 'varchar', 'ticker': 'varchar', 'execution_date': 'date', 'split_from': 'double',
                   'split_to': 'double', 'ingested_at': 'timestamptz'},
        'dividends': {'id': 'varchar', 'ticker': 'varchar', 'ex_dividend_date': 'date', 'pay_date': 'date',
                      'record_date': 'date', 'declaration_date': 'date', 'cash_amount': 'double',
                      'currency': 'varchar', 'dividend_type': 'varchar', 'frequency': 'bigint',
                      'ingested_at': 'timestamptz'},
        'market_holidays': {'exchange': 'varchar', 'date': 'date', 'name': 'varchar', 'status': 'varchar',
                            'open': 'timestamptz', 'close': 'timestamptz', 'ingested_at': 'timestamptz'},
        'quarantine': {'resource': 'varchar', 'reason': 'varchar', 'ticker': 'varchar', 'payload': 'varchar',
                       'ingested_at': 'timestamptz'},
    }) }}
{%- endmacro %}

{% macro lake_raw_views() -%}
    {%- if target.name != 'lake' or not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set root = lake_bucket_url() ~ '/raw_polygon' -%}
    {%- set listing = run_query(
        "select distinct parse_filename(parse_dirpath(file)) as table_name from glob('" ~ root ~ "/*/*.parquet')") -%}
    {%- set present = listing.columns[0].values() | list -%}
    create schema if not exists raw_polygon;
    {% for table, columns in lake_raw_tables().items() %}
        {%- if table in present %}
    create or replace view raw_polygon.{{ table }} as
    select * from read_parquet('{{ root }}/{{ table }}/*.parquet', union_by_name = true);
        {%- else %}
    create or replace view raw_polygon.{{ table }} as
    select
        {% for name, type in columns.items() -%}
            cast(null as {{ type }}) as "{{ name }}",
        {% endfor -%}
        cast(null as varchar) as _dlt_load_id,
        cast(null as varchar) as _dlt_id
    where false;
        {%- endif %}
    {% endfor %}
{%- endmacro %}

{% macro lake_export() -%}
    {%- if target.name != 'lake' -%}
        {{ return('') }}
    {%- endif -%}
    {#- OVERWRITE replaces the mart's whole prefix, so a ticker that left the mart leaves no
        stale partition behind -#}
    copy (select * from {{ this }})
    to '{{ adapter.external_root() }}/{{ this.identifier }}'
    (format parquet, partition_by (ticker), overwrite true)
{%- endmacro %}

{#- The `spark` target: raw_polygon.<table> as external Parquet tables over dlt's folders
    (TRADLYTE_SPARK_RAW/<table>/*.parquet: a local path, or an s3a:// URL on a cluster that
    has the hadoop-aws jars). The schema is declared (the types of lake_raw_tables), so a
    table with no file yet reads as empty and files of every load are read by column name.
    Recreated at every run start: new files of new loads are always seen. -#}
{% macro spark_raw_tables() -%}
    {%- if target.type != 'spark' or not execute -%}
        {{ return('') }}
    {%- endif -%}
    {#- the data folder as profiles/profiles.yml finds it (TRADLYTE_DATA_DIR, else the clone's data/) -#}
    {%- set data_dir = env_var('TRADLYTE_DATA_DIR', flags.PROFILES_DIR ~ '/../data') -%}
    {%- set root = env_var('TRADLYTE_SPARK_RAW', data_dir ~ '/lake/raw_polygon') | replace('\\', '/') -%}
    {%- set spark_types = {'varchar': 'string', 'timestamptz': 'timestamp'} -%}
    {% do run_query('create schema if not exists raw_polygon') %}
    {% for table, columns in lake_raw_tables().items() %}
        {%- set ddl = [] -%}
        {%- for name, type in columns.items() -%}
            {%- do ddl.append('`' ~ name ~ '` ' ~ spark_types.get(type, type)) -%}
        {%- endfor -%}
        {%- do ddl.extend(['`_dlt_load_id` string', '`_dlt_id` string']) -%}
        {% do run_query('drop table if exists raw_polygon.' ~ table) %}
        {% do run_query('create table raw_polygon.' ~ table ~ ' (' ~ ddl | join(', ') ~ ')'
            ~ " using parquet location '" ~ root ~ '/' ~ table ~ "'") %}
    {% endfor %}
    {{ return('') }}
{%- endmacro %}
