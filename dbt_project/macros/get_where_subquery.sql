{#- Which rows a data test reads. dbt's own rule (the test's `where` config) plus one of ours: on
    an incremental run, a test of a day-partitioned incremental model reads only the days the run
    rebuilt (the others were tested when they were built), so a daily run's tests cost what its
    models cost. A full refresh, or a run without a partition window, tests every row. -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do conditions.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set day_column = marketprep.rebuilt_by_day_column(relation) -%}
    {%- if day_column and not flags.FULL_REFRESH and var('window_end') is not none -%}
        {%- do conditions.append(marketprep.rebuilt_days(day_column)) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ conditions | join(' and ') ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- The market-day column of a model built by config_rebuilt_by_day(), or none. -#}
{% macro rebuilt_by_day_column(relation) -%}
    {%- if execute and relation.identifier is defined -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == 'model' and node.alias == relation.identifier
                and node.schema == relation.schema -%}
                {%- do return(node.config.meta.get('rebuilt_by_day')) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- do return(none) -%}
{%- endmacro %}
