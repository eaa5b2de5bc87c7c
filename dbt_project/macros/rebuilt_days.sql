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

{#- A query of the market days this run rebuilds (one column, market_date). Call it at the top of
    a model, outside any is_incremental() block, so that dbt sees its refs when it parses. A data
    test cannot ref() what its model doesn't, so tests pass the two relations it reads. -#}
{% macro rebuilt_days(orders=none, returns=none) -%}
    {%- set orders = orders or ref('stg_square__orders') -%}
    {%- set returns = returns or ref('stg_square__order_returns') -%}
    {%- set first = "cast('" ~ marketprep.rebuild_start_text() ~ "' as date)" -%}
    {%- set last = "cast('" ~ marketprep.window_end_text() ~ "' as date)" -%}
    select {{ marketprep.add_days(first, 'day_offset') }} as market_date
    from {{ marketprep.day_offsets(marketprep.days_between(first, last)) }} as offsets (day_offset)

    union

    select sold.market_date
    from {{ returns }} as returned
    inner join {{ orders }} as sold
        on returned.vendor_id = sold.vendor_id
        and returned.source_order_id = sold.order_id
    where returned.returned_on between {{ first }} and {{ last }}
{%- endmacro %}

{#- The config every day-partitioned incremental model shares. Call it first thing in the model:
    it also renders rebuilt_days() once at parse time, so that dbt records the refs it needs. -#}
{% macro config_rebuilt_by_day() -%}
    {%- do marketprep.rebuilt_days() -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ marketprep.delete_rebuilt_days() }}",
        meta={'rebuilt_by_day': 'market_date'},
    ) }}
{%- endmacro %}

{#- pre_hook of an incremental model: drop the days about to be rebuilt. Nothing on a full build. -#}
{% macro delete_rebuilt_days() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where market_date in ({{ marketprep.rebuilt_days() }})
    {%- endif -%}
{%- endmacro %}

{#- The filter an incremental model puts on its upstream rows: only the rebuilt days, and no
    filter at all on a full build. -#}
{% macro only_rebuilt_days(column='market_date') -%}
    {%- if is_incremental() -%}
        {{ column }} in ({{ marketprep.rebuilt_days() }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
