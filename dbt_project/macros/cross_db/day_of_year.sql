{#- Day of the year of a date as an integer, 1 .. 366. extract() returns numeric on Postgres and
    bigint on DuckDB, hence the cast. -#}
{% macro day_of_year(date_expr) -%}
    {{ return(adapter.dispatch('day_of_year', 'marketprep')(date_expr)) }}
{%- endmacro %}

{% macro default__day_of_year(date_expr) -%}
    cast(extract(doy from {{ date_expr }}) as integer)
{%- endmacro %}
