{#- Incremental models on the spark target: `insert_overwrite` of whole ticker partitions.

    On DuckDB and PostgreSQL the incremental models are `delete+insert` on their unique key:
    a run selects the rows it recomputes (a look-back, newer loads, restated tickers, the
    bars from the first changed one on), deletes the stored rows with the same keys and
    inserts the new ones. Spark's Parquet tables have neither DELETE nor MERGE (that needs
    Delta / Iceberg); what they do have is `insert overwrite` with
    spark.sql.sources.partitionOverwriteMode=dynamic, which replaces exactly the partitions
    present in the query's output and leaves every other partition as it was. The spark
    target therefore declares these models

        incremental_strategy='insert_overwrite', partition_by=['ticker'], file_format='parquet'

    (see `tradlyte_incremental_config` below) and this override of dbt-spark's
    `get_insert_overwrite_sql` turns the model's rows into WHOLE partitions, so the result is
    the same table delete+insert produces, row for row:

        output = new rows (the model's SQL, computed once into a staging table)
               + stored rows of every ticker the run touches, minus those whose unique key
                 is among the new rows (delete+insert's delete), minus the rows the model
                 declares replaced (config `partition_overwrite_replaced`, gold.signals'
                 pre-hook delete on the other engines)

    A ticker the run does not touch keeps its partition untouched. A ticker whose partition
    ends up empty (every stored row replaced and nothing new: only possible with
    `partition_overwrite_replaced`) would be left untouched by the overwrite, so its partition
    is dropped explicitly. A rerun is idempotent: the same new rows replace the same keys.

    Why ticker: every model's incremental scope is per series (ticker, timeframe), the window
    computations are partitioned by ticker, and a restatement (a late split) is per ticker, so
    ticker partitions are exactly what a run can change. The cost: a daily run touches every
    ticker, so it rewrites (copies, it does not recompute) the whole table; the recursive and
    window work is still only done for the new rows. On a cluster with Delta or Iceberg,
    `incremental_strategy='merge'` on the same unique key avoids the copy (see README).

    `partition_overwrite_replaced` (optional): {'macro': name, 'on': condition}. The macro,
    called with the model's own relation, returns a query of the stored ranges the run
    recomputes, aliased `replaced`; `on` matches a stored row (alias `existing`) inside such
    a range. The query must have the partition column: its tickers are touched even when
    they get no new row. -#}

{% macro tradlyte_incremental_config() -%}
    {#- The per-target part of an incremental model's config: delete+insert on DuckDB and
        PostgreSQL, whole-partition insert_overwrite by ticker on Spark (Parquet). -#}
    {#- TRADLYTE_SPARK_FILE_FORMAT: parquet (tested); a cluster with Delta Lake may set delta -#}
    {%- if target.type == 'spark' -%}
        {{ return({'incremental_strategy': 'insert_overwrite', 'partition_by': ['ticker'],
                   'file_format': env_var('TRADLYTE_SPARK_FILE_FORMAT', 'parquet')}) }}
    {%- else -%}
        {{ return({'incremental_strategy': 'delete+insert'}) }}
    {%- endif -%}
{%- endmacro %}


{% macro get_insert_overwrite_sql(source_relation, target_relation, existing_relation) %}
    {#- dbt-spark calls this unqualified for the insert_overwrite strategy; the root project's
        macro takes precedence. Models without a unique key or a partition get dbt-spark's. -#}
    {%- set unique_key = config.get('unique_key') -%}
    {%- set partition_by = config.get('partition_by') -%}
    {%- if not unique_key or not partition_by or existing_relation.is_iceberg -%}
        {{ return(dbt_spark.get_insert_overwrite_sql(source_relation, target_relation, existing_relation)) }}
    {%- endif -%}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    {%- set parts = [partition_by] if partition_by is string else partition_by -%}
    {%- if parts | length != 1 -%}
        {{ exceptions.raise_compiler_error('whole-partition insert_overwrite supports one partition column, got ' ~ parts) }}
    {%- endif -%}
    {%- set part = parts[0] -%}
    {%- set dest_cols_csv = adapter.get_columns_in_relation(target_relation) | map(attribute='quoted') | join(', ') -%}
    {%- set replaced = config.get('partition_overwrite_replaced') -%}
    {%- set replaced_sql = context[replaced['macro']](target_relation) if replaced else none -%}

    {#- the model's rows, computed once into a staging table: the statement below reads them
        three times, and they read the stored table (watermarks, carried state) that the
        statement overwrites. Not `cache table`: Spark inlines every (deterministic) CTE at
        each reference, so the incremental plans are large, and a cache is matched by plan
        and sized by memory; a Parquet table is neither. Dropped by the post-hook
        `spark_release_incremental_tmp`. -#}
    {%- set staged = tradlyte_spark_staging_relation(target_relation) -%}
    {% do run_query('drop table if exists ' ~ staged) %}
    {% do run_query('create table ' ~ staged ~ ' using parquet as select * from ' ~ source_relation) %}
    {%- set source_relation = staged -%}

    {%- set touched -%}
        select distinct {{ part }} from {{ source_relation }}
        {%- if replaced_sql %}
        union
        select distinct {{ part }} from ({{ replaced_sql }}) as replaced
        {%- endif %}
    {%- endset -%}

    {%- set kept -%}
        select {{ dest_cols_csv }}
        from {{ target_relation }} as existing
        left semi join ({{ touched }}) as touched
            on existing.{{ part }} = touched.{{ part }}
        left anti join {{ source_relation }} as incoming
            on {% for key in keys %}existing.{{ key }} <=> incoming.{{ key }}{% if not loop.last %} and {% endif %}{% endfor %}
        {%- if replaced_sql %}
        left anti join ({{ replaced_sql }}) as replaced
            on {{ replaced['on'] }}
        {%- endif %}
    {%- endset -%}

    {%- if replaced_sql and execute -%}
        {#- partitions left with no row at all: the overwrite would not touch them -#}
        {%- set emptied -%}
            select touched.{{ part }}
            from ({{ touched }}) as touched
            left anti join (select {{ part }} from {{ source_relation }}) as incoming
                on touched.{{ part }} = incoming.{{ part }}
            left anti join ({{ kept }}) as kept_rows
                on touched.{{ part }} = kept_rows.{{ part }}
        {%- endset -%}
        {%- for row in run_query(emptied) -%}
            {% do run_query('alter table ' ~ target_relation ~ ' drop if exists partition ('
                ~ part ~ " = '" ~ (row[0] | replace("\\", "\\\\") | replace("'", "\\'")) ~ "')") %}
        {%- endfor -%}
    {%- endif %}

    insert overwrite table {{ target_relation }}
    {{ partition_cols(label="partition") }}
    select {{ dest_cols_csv }} from {{ source_relation }}
    union all
    {{ kept }}
{% endmacro %}


{% macro tradlyte_spark_staging_relation(relation) -%}
    {{ return(relation.incorporate(path={'identifier': relation.identifier ~ '__dbt_new'})) }}
{%- endmacro %}


{% macro spark_release_incremental_tmp() -%}
    {#- post-hook (every model): drop the staging table of an incremental spark run -#}
    {%- if target.type == 'spark' and model.config.materialized == 'incremental' -%}
        drop table if exists {{ tradlyte_spark_staging_relation(this) }}
    {%- endif -%}
{%- endmacro %}
