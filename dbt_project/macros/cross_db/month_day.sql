{#- A date's month and day as 'MM-DD' text, the form season boundaries are written in; zero-padded,
    so comparing the texts compares the days of the year. -#}
{% macro month_day(date_expr) -%}
    {{ return(adapter.dispatch('month_day', 'marketprep')(date_expr)) }}
{%- endmacro %}

{% macro default__month_day(date_expr) -%}
    lpad(cast(cast(extract(month from {{ date_expr }}) as integer) as text), 2, '0')
    || '-'
    || lpad(cast(cast(extract(day from {{ date_expr }}) as integer) as text), 2, '0')
{%- endmacro %}
