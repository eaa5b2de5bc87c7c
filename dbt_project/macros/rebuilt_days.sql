{#- Incremental models are partitioned by market day. A run rebuilds the days of its partition
    window (vars window_start .. window_end, inclusive; by default the day before run_date, the
    daily run's one new partition), plus lookback_days before it for Square's late updates, plus
    the sale days of orders that got a return in that span (a return nets out of the day the item
    was sold). A full refresh (`dbt build --full-refresh`) rebuilds everything.

    Every incremental model deletes the rebuilt days from itself, then inserts them recomputed
    from its upstream: one delete and one insert, in one transaction. -#}

{% macro window_end_text() -%}
    {%- set day_before_run = (modules.datetime.date.fromisoformat(marketprep.run_date_text())
        - modules.datetime.timedelta(days=1)).isoformat() -%}
    {{ return(marketprep.date_var_text('window_end', day_before_run)) }}
{%- endmacro %}

{% macro window_start_text() -%}
    {%- set start = marketprep.date_var_text('window_start', marketprep.window_end_text()) -%}
    {%- if start > marketprep.window_end_text() -%}
        {{ exceptions.raise_compiler_error("var window_start (" ~ start ~ ") is after window_end (" ~ marketprep.window_end_text() ~ ")") }}
    {%- endif -%}
    {{ return(start) }}
{%- endmacro %}

{#- The first day a run rebuilds: window_start less the lookback for late updates. -#}
{% macro rebuild_start_text() -%}
    {%- set lookback = var('lookback_days') | string -%}
    {%- if not modules.re.fullmatch('[0-9]+', lookback) -%}
        {{ exceptions.raise_compiler_error("var lookback_days must be a whole number of days, got '" ~ lookback ~ "'") }}
    {%- endif -%}
    {{ return((modules.datetime.date.fromisoformat(marketprep.window_start_text())
        - modules.datetime.timedelta(days=lookback | int)).isoformat()) }}
{%- endmacro %}

{#- The condition on a market-day column that selects the days this run rebuilds: the span from
    rebuild_start to window_end, or a sale day of an order that got a return in that span.

    When dbt executes against the warehouse, the returned sale days are looked up first and
    written out as literal dates: a planner (PostgreSQL's above all) then knows how many rows the
    condition keeps, and an index on the day can serve it. The lookup reads the raw tables, where
    the order key's index is reachable (PostgreSQL does not push a join key through the staging
    views' CTEs). At parse time, and in a unit test (which has no warehouse relation to look in),
    the same days come from a subquery on the staging models instead; rendering that subquery at
    parse time is also what makes dbt record the refs. -#}
{% macro rebuilt_days(column='market_date', orders=none, returns=none) -%}
    {%- set first = "cast('" ~ marketprep.rebuild_start_text() ~ "' as date)" -%}
    {%- set last = "cast('" ~ marketprep.window_end_text() ~ "' as date)" -%}
    {%- if execute and this is not none -%}
        {%- set returned_days = [] -%}
        {%- for day in marketprep.returned_sale_days() -%}
            {%- do returned_days.append("cast('" ~ day ~ "' as date)") -%}
        {%- endfor -%}
        ({{ column }} between {{ first }} and {{ last }}
        {%- if returned_days %} or {{ column }} in ({{ returned_days | join(', ') }}){% endif %})
    {%- else -%}
        {%- set orders = orders or ref('stg_square__orders') -%}
        {%- set returns = returns or ref('stg_square__order_returns') -%}
        ({{ column }} between {{ first }} and {{ last }}
            or {{ column }} in (
                select sold.market_date
                from {{ returns }} as returned
                inner join {{ orders }} as sold
                    on returned.vendor_id = sold.vendor_id
                    and returned.source_order_id = sold.order_id
                where returned.returned_on between {{ first }} and {{ last }}
            ))
    {%- endif -%}
{%- endmacro %}

{#- The sale days ('YYYY-MM-DD', sorted) of the orders that got a return in the span this run
    rebuilds, looked up in the raw tables. Every incremental model (twice: its delete and its
    insert) and every test scoped to the rebuilt days needs them, so the on-run-start hook
    (cache_returned_sale_days) looks them up once per invocation and leaves them in a one-row
    table; a node reads that row, or, when the hook did not run (`dbt compile`, `dbt show`) or
    had no raw tables to read, looks them up itself. -#}
{% macro returned_sale_days() -%}
    {%- if flags.WHICH in marketprep.commands_with_run_hooks() and not flags.FULL_REFRESH -%}
        {%- set cached = run_query(
            "select returned_days from " ~ marketprep.returned_days_cache()
            ~ " where invocation_id = '" ~ invocation_id ~ "'"
            ~ " and rebuild_start = '" ~ marketprep.rebuild_start_text() ~ "'"
            ~ " and window_end = '" ~ marketprep.window_end_text() ~ "'") -%}
        {%- if cached.rows | length == 1 -%}
            {%- set text = cached.columns[0].values()[0] -%}
            {{ return(text.split(',') if text else []) }}
        {%- endif -%}
    {%- endif -%}
    {{ return(marketprep.look_up_returned_sale_days()) }}
{%- endmacro %}

{% macro look_up_returned_sale_days() -%}
    {%- set lookup -%}
        select distinct sold.market_date
        from {{ marketprep.source_relation('raw', 'square_order_returns') }} as returned
        inner join {{ marketprep.source_relation('raw', 'square_orders') }} as sold
            on returned.vendor_id = sold.vendor_id
            and returned.source_order_id = sold.order_id
        where returned.market_date between cast('{{ marketprep.rebuild_start_text() }}' as date)
                and cast('{{ marketprep.window_end_text() }}' as date)
            and returned.state = 'COMPLETED'
        order by 1
    {%- endset -%}
    {%- set days = [] -%}
    {%- for day in run_query(lookup).columns[0].values() -%}
        {%- do days.append(day | string) -%}
    {%- endfor -%}
    {{ return(days) }}
{%- endmacro %}

{#- The dbt commands that run on-run-start hooks. -#}
{% macro commands_with_run_hooks() -%}
    {{ return(['build', 'run', 'test', 'seed', 'snapshot']) }}
{%- endmacro %}

{#- The one-row table the on-run-start hook leaves the returned sale days in, in the target
    schema: (invocation_id, rebuild_start, window_end, returned_days as 'YYYY-MM-DD,...'). -#}
{% macro returned_days_cache() -%}
    {{ return(api.Relation.create(database=target.database, schema=target.schema,
        identifier='dbt_returned_sale_days')) }}
{%- endmacro %}

{#- on-run-start: look the returned sale days up once for the whole invocation. Nothing on a
    full refresh (nothing is scoped to rebuilt days), at parse time, or without the raw tables
    (a node then looks them up itself, and fails as it would have). Another invocation's row is
    replaced: a build running at the same time then finds none and looks its days up itself. -#}
{% macro cache_returned_sale_days() -%}
    {%- if execute and not flags.FULL_REFRESH -%}
        {%- set cache = marketprep.returned_days_cache() -%}
        {%- do run_query("create table if not exists " ~ cache
            ~ " (invocation_id text, rebuild_start text, window_end text, returned_days text)") -%}
        {%- do run_query("delete from " ~ cache) -%}
        {%- set raw_tables = [] -%}
        {%- for node in graph.sources.values() -%}
            {%- if node.source_name == 'raw' and node.name in ['square_orders', 'square_order_returns'] -%}
                {%- do raw_tables.append(adapter.get_relation(
                    database=node.database, schema=node.schema, identifier=node.identifier)) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if raw_tables | length == 2 and none not in raw_tables -%}
            {%- do run_query("insert into " ~ cache ~ " values ('" ~ invocation_id ~ "', '"
                ~ marketprep.rebuild_start_text() ~ "', '" ~ marketprep.window_end_text() ~ "', '"
                ~ marketprep.look_up_returned_sale_days() | join(',') ~ "')") -%}
        {%- endif -%}
        {%- do adapter.commit() -%}
    {%- endif -%}
{%- endmacro %}

{#- The relation of a dbt source table, found in the graph (no source() call, so no new edge). -#}
{% macro source_relation(source_name, table_name) -%}
    {%- for node in graph.sources.values() -%}
        {%- if node.source_name == source_name and node.name == table_name -%}
            {%- do return(node.relation_name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("no source " ~ source_name ~ "." ~ table_name) }}
{%- endmacro %}

{#- The config every day-partitioned incremental model shares. Call it first thing in the model:
    it also renders rebuilt_days() once at parse time, so that dbt records the refs it needs. -#}
{% macro config_rebuilt_by_day() -%}
    {%- do marketprep.rebuilt_days() -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=["{{ marketprep.wide_join_hints() }}", "{{ marketprep.delete_rebuilt_days() }}"],
        meta={'day_column': 'market_date'},
    ) }}
{%- endmacro %}

{#- pre_hook of an incremental model: drop the days about to be rebuilt. Nothing on a full build. -#}
{% macro delete_rebuilt_days() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ marketprep.rebuilt_days() }}
    {%- endif -%}
{%- endmacro %}

{#- The filter an incremental model puts on its upstream rows: only the rebuilt days, and no
    filter at all on a full build. -#}
{% macro only_rebuilt_days(column='market_date') -%}
    {%- if is_incremental() -%}
        {{ marketprep.rebuilt_days(column) }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
