{#- The feature table is incremental: a daily run rewrites the rows whose inputs may have changed
    and keeps the others, and must end where a full refresh of the same data ends.

    A history row (vendor, market, product, day) depends on
    - its series: whether it is one (a sale within product_lookback_days before run_date), its
      first sale, whether the product is deleted (then its last sale), the product's and the
      market's attributes;
    - its day: the sales and attendance (fct_product_sales, int_vendor_market_days), weather,
      events, events status, holidays and vendor feedback of that day;
    - the series' earlier days: the lags and rolling means read up to 8 occurrences back, and
      units_same_day_last_season the day 364 days back;
    - run_date, only through the series and through being before it.
    Future rows depend on run_date and on everything: they are always rewritten.

    So each build leaves, next to the table, a fingerprint of every day's inputs and the state of
    every series (tables `<table>__day_state`, `<table>__series_state`, `<table>__run_state`). The
    next incremental run compares them with the inputs it sees and rewrites
    - every row from the cutoff on: the first day whose fingerprint changed, or the previous or
      this run_date if earlier (days that were future then are history now);
    - every row of a series whose state changed (new, gone, renamed, repriced, deleted, an
      earlier first sale...), from its first day;
    - every future row.
    A row before the cutoff of an unchanged series read only unchanged inputs, so it stands. Its
    recomputed neighbours read their lags from the kept rows' days, which the model recomputes
    from the 8 attendances before the cutoff (feature_lag_floor). Without state (the first
    incremental run after this change, or after a failed save) the run rewrites everything. -#}

{% macro feature_state_relation(suffix) -%}
    {{ return(this.incorporate(path={'identifier': this.identifier ~ '__' ~ suffix})) }}
{%- endmacro %}

{#- The state of every series the table holds: what its rows' existence and series-wide columns
    read. A non-deleted series' last sale only matters through whether it is a series at all. -#}
{% macro feature_series_state_sql() -%}
    select
        series.vendor_id,
        series.market_id,
        series.product_id,
        series.first_sale_date,
        case when products.is_deleted then series.last_sale_date end as deleted_after,
        products.is_deleted,
        products.product_name,
        products.category,
        products.unit_price,
        products.currency,
        markets.country,
        markets.timezone
    from ({{ marketprep.feature_series_sql() }}) as series
    inner join (select * from {{ ref('dim_products') }}) as products
        on series.vendor_id = products.vendor_id
        and series.product_id = products.product_id
    inner join (select * from {{ ref('dim_markets') }}) as markets
        on series.market_id = markets.market_id
{%- endmacro %}

{#- A series: a product the vendor sold at the market within the lookback, from its first sale
    there (the model's `series`). -#}
{% macro feature_series_sql() -%}
    select
        vendor_id,
        market_id,
        product_id,
        min(market_date) as first_sale_date,
        max(market_date) as last_sale_date
    from {{ ref('fct_product_sales') }}
    where market_date < {{ marketprep.run_date() }}
    group by vendor_id, market_id, product_id
    having max(market_date) >= {{ marketprep.lookback_start('product_lookback_days') }}
{%- endmacro %}

{#- One fingerprint per day of everything a row of that day reads from that day. -#}
{% macro feature_day_state_sql() -%}
    {%- set parts = [
        (ref('fct_product_sales'), 'market_date', ['vendor_id', 'market_id', 'product_id', 'units_sold',
            'orders_count', 'last_sale_at', 'is_sold_out_inferred']),
        (ref('int_vendor_market_days'), 'market_date', ['vendor_id', 'market_id']),
        (ref('int_weather_best'), 'weather_date', ['market_id', 'temp_max_c', 'precip_mm',
            'weather_source', 'precip_source']),
        (ref('int_events_daily'), 'event_date', ['market_id', 'total_attendance', 'events_count']),
        (ref('stg_events__fetch_status'), 'event_date', ['market_id', 'events_known', 'events_source']),
        (ref('stg_app__vendor_feedback'), 'market_date', ['vendor_id', 'market_id', 'product_id',
            'units_sold', 'units_brought', 'is_sold_out']),
        (ref('stg_calendar__public_holidays'), 'holiday_date', ['country', 'holiday_name']),
    ] -%}
    select fingerprint_day, sum(fingerprint) as fingerprint
    from (
        {%- for relation, day_column, columns in parts %}
        select {{ day_column }} as fingerprint_day, {{ marketprep.row_hash([loop.index | string] + columns) }} as fingerprint
        from {{ relation }}
        {{- ' union all' if not loop.last }}
        {%- endfor %}
    ) as inputs
    group by fingerprint_day
{%- endmacro %}

{#- The first day this run rewrites: see above. None when it must rewrite everything. Looked up
    when the model compiles and again when its delete renders (the same answer: nothing upstream
    changes in between). -#}
{% macro feature_cutoff() -%}
    {#- in a unit test `this` is none (and is_incremental() would fail on it) -#}
    {%- if not execute or this is none or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- for suffix in ['day_state', 'series_state', 'run_state'] -%}
        {%- set relation = marketprep.feature_state_relation(suffix) -%}
        {%- if adapter.get_relation(database=relation.database, schema=relation.schema,
            identifier=relation.identifier) is none -%}
            {{ return(none) }}
        {%- endif -%}
    {%- endfor -%}
    {%- set lookup -%}
        select min(day_) as cutoff from (
            select coalesce(now_.fingerprint_day, before_.fingerprint_day) as day_
            from ({{ marketprep.feature_day_state_sql() }}) as now_
            full outer join {{ marketprep.feature_state_relation('day_state') }} as before_
                on now_.fingerprint_day = before_.fingerprint_day
            where now_.fingerprint is distinct from before_.fingerprint
            union all
            select run_date from {{ marketprep.feature_state_relation('run_state') }}
            union all
            select {{ marketprep.run_date() }}
        ) as days
    {%- endset -%}
    {%- set found = run_query(lookup).columns[0].values() -%}
    {%- if found | length != 1 or found[0] is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(found[0] | string) }}
{%- endmacro %}

{#- pre_hook: the series whose state changed go to `<table>__rebuilt_series` (the model reads it),
    then the rows about to be rewritten are deleted. Nothing on a full build. -#}
{% macro delete_rebuilt_features() -%}
    {%- if execute and is_incremental() -%}
        {%- set cutoff = marketprep.feature_cutoff() -%}
        {%- set rebuilt = marketprep.feature_state_relation('rebuilt_series') -%}
        {%- if cutoff is none -%}
            delete from {{ this }}
        {%- else -%}
            {%- set before = marketprep.feature_state_relation('series_state') -%}
            drop table if exists {{ rebuilt }};
            create table {{ rebuilt }} as
            with now_ as (
                {{ marketprep.feature_series_state_sql() }}
            )
            select vendor_id, market_id, product_id from (
                select * from now_
                except
                select * from {{ before }}
            ) as appeared
            union
            select vendor_id, market_id, product_id from (
                select * from {{ before }}
                except
                select * from now_
            ) as gone;
            delete from {{ this }}
            where is_future or market_date >= cast('{{ cutoff }}' as date);
            delete from {{ this }} as features
            using {{ rebuilt }} as rebuilt
            where features.vendor_id = rebuilt.vendor_id
                and features.market_id = rebuilt.market_id
                and features.product_id = rebuilt.product_id
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- post_hook: the state the next incremental run compares with, in the build's transaction. -#}
{% macro save_feature_state() -%}
    {%- if execute -%}
        {%- set days = marketprep.feature_state_relation('day_state') -%}
        {%- set series = marketprep.feature_state_relation('series_state') -%}
        {%- set run = marketprep.feature_state_relation('run_state') -%}
        drop table if exists {{ days }};
        create table {{ days }} as {{ marketprep.feature_day_state_sql() }};
        drop table if exists {{ series }};
        create table {{ series }} as {{ marketprep.feature_series_state_sql() }};
        drop table if exists {{ run }};
        create table {{ run }} as select {{ marketprep.run_date() }} as run_date
    {%- endif -%}
{%- endmacro %}
