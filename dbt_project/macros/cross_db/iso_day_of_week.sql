{#- ISO weekday of a date as an integer: 1 = Monday ... 7 = Sunday. extract() returns numeric on
    Postgres and bigint on DuckDB, hence the cast. -#}
{% macro iso_day_of_week(date_expr) -%}
    {{ return(adapter.dispatch('iso_day_of_week', 'marketprep')(date_expr)) }}
{%- endmacro %}

{% macro default__iso_day_of_week(date_expr) -%}
    cast(extract(isodow from {{ date_expr }}) as integer)
{%- endmacro %}
