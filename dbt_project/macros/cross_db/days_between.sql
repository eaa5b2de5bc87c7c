{#- Whole days from start_date to end_date (negative when end_date is earlier), as an integer. -#}
{% macro days_between(start_date_expr, end_date_expr) -%}
    {{ return(adapter.dispatch('days_between', 'marketprep')(start_date_expr, end_date_expr)) }}
{%- endmacro %}

{% macro default__days_between(start_date_expr, end_date_expr) -%}
    cast({{ end_date_expr }} - {{ start_date_expr }} as integer)
{%- endmacro %}
