{#- Overrides dbt-spark's NOT NULL constraints for the spark target. Spark can only declare
    NOT NULL on Delta / Iceberg tables; the spark target writes plain Parquet (`file_format`
    default), where `alter table ... set not null` is an error. There the contracts still fix
    every column's name and type, and the not-null constraints are skipped; with
    `+file_format: delta` (a cluster with Delta Lake) dbt-spark's own macro applies them. -#}
{% macro spark__alter_column_set_constraints(relation, column_dict) %}
    {%- if config.get('file_format', 'parquet') in ['delta', 'iceberg'] -%}
        {{ return(dbt_spark.spark__alter_column_set_constraints(relation, column_dict)) }}
    {%- endif -%}
{% endmacro %}
