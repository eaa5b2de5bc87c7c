{#- The run window every date-relative model shares, validated once so that a malformed var
    fails at compile time with a message instead of deep inside a query. -#}

{#- A var holding a day, 'YYYY-MM-DD', as its text; `default` (text) when the var is null. -#}
{% macro date_var_text(name, default) -%}
    {%- set value = var(name) -%}
    {%- if value is none -%}
        {%- set value = default -%}
    {%- endif -%}
    {#- YAML turns an unquoted 2024-07-01 into a date; its string form is the same text. -#}
    {%- set text = value | string -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', text) -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be a date 'YYYY-MM-DD', got '" ~ text ~ "'") }}
    {%- endif -%}
    {{ return(text) }}
{%- endmacro %}

{#- The logical date of the run: the first day that counts as upcoming. -#}
{% macro run_date_text() -%}
    {{ return(marketprep.date_var_text('run_date', run_started_at.strftime('%Y-%m-%d'))) }}
{%- endmacro %}

{% macro run_date() -%}
    cast('{{ marketprep.run_date_text() }}' as date)
{%- endmacro %}

{#- A var that must be a positive whole number of days, rendered as an integer literal. -#}
{% macro days_var(name) -%}
    {%- set text = var(name) | string -%}
    {%- if not modules.re.fullmatch('[1-9][0-9]*', text) -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be a positive integer, got '" ~ text ~ "'") }}
    {%- endif -%}
    {{ text }}
{%- endmacro %}

{#- First day of the lookback window named by a days var; the window ends the day before run_date. -#}
{% macro lookback_start(days_var_name) -%}
    {{ marketprep.add_days(marketprep.run_date(), '-' ~ marketprep.days_var(days_var_name)) }}
{%- endmacro %}
