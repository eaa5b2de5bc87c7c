{#- date + n days, still a date. The integer cast matters on Postgres, which has date + integer
    but no date + bigint (DuckDB's date differences and series are bigint). -#}
{% macro add_days(date_expr, days_expr) -%}
    {{ return(adapter.dispatch('add_days', 'marketprep')(date_expr, days_expr)) }}
{%- endmacro %}

{% macro default__add_days(date_expr, days_expr) -%}
    cast({{ date_expr }} + cast({{ days_expr }} as integer) as date)
{%- endmacro %}
