{#- pre_hook of the models that join long tables (the feature table, the incremental sales
    models). PostgreSQL multiplies the selectivities of join filters (series start, deleted
    products, left joins on two keys), and a day just loaded lies past its statistics' histogram:
    it estimates a few rows where there are hundreds of thousands and picks nested loops. The
    feature table took 75 s of a 183 s full refresh at 200 vendors × 3 years, and an incremental
    int_sale_lines of one new day was cancelled after 15 minutes (33,984 new lines, each compared
    with 21,078 returned lines). Hash joins are
    right for every join here, so this model turns nested loops off for its own transaction, and
    gives its sorts and hashes (windows over every series day) memory instead of temp files.
    DuckDB plans these joins as hash joins anyway. -#}
{% macro wide_join_hints() -%}
    {{ return(adapter.dispatch('wide_join_hints', 'marketprep')()) }}
{%- endmacro %}

{% macro default__wide_join_hints() -%}
{%- endmacro %}

{% macro postgres__wide_join_hints() -%}
    set local enable_nestloop = off; set local work_mem = '128MB'
{%- endmacro %}

{#- pre_hook of int_weather_best: its best-source candidates (row_number() = 1) are estimated at a
    few dozen rows where there are as many as days, and PostgreSQL then merge-joins every day of a
    market with every candidate of the market (13 s of an incremental run at 200 vendors × 3
    years; hash joins: 0.2 s). -#}
{% macro hash_join_hints() -%}
    {{ return(adapter.dispatch('hash_join_hints', 'marketprep')()) }}
{%- endmacro %}

{% macro default__hash_join_hints() -%}
{%- endmacro %}

{% macro postgres__hash_join_hints() -%}
    set local enable_nestloop = off; set local enable_mergejoin = off
{%- endmacro %}
