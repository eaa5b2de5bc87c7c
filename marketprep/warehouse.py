"""The warehouse: one small API over the embedded DuckDB file and PostgreSQL.

Every write is a bulk write (Arrow into DuckDB, COPY into PostgreSQL) inside one transaction, and
every load replaces what it covers (`replace`: a `where` scope; `upsert`: keys, newest version
wins), so re-running a partition or a sync never duplicates rows.
SQL passed in here uses `?` placeholders on both backends.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from operator import itemgetter
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from data_contracts import Contract
from marketprep.settings import WarehouseLocation

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "json": pa.string(),
    "int64": pa.int64(),
    "int32": pa.int32(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp_tz": pa.timestamp("us", tz="UTC"),
    "decimal": pa.decimal128(18, 5),
}
# Rows formatted per CSV chunk: small enough that PostgreSQL parses one chunk while Arrow formats
# the next (a 5,000-order batch of Square orders is ~12 MB of CSV).
COPY_CHUNK_ROWS = 1_000
SQL_TYPES: dict[str, str] = {
    "string": "text",
    "json": "text",
    "int64": "bigint",
    "int32": "integer",
    "float64": "double precision",
    "bool": "boolean",
    "date": "date",
    "timestamp_tz": "timestamptz",
    "decimal": "numeric(18, 5)",
}


class ContractViolation(ValueError):
    """Rows about to be written do not match their table's contract."""


Columns = Mapping[str, Sequence[Any] | pa.Array | pa.ChunkedArray]


def to_arrow(
    contract: Contract, rows: pd.DataFrame | Sequence[dict[str, Any]] | Columns
) -> pa.Table:
    """Typed Arrow table in the contract's column order; names the column when a value does not fit.

    Dicts are read column by column without pandas; a key a row lacks is null. A mapping holds
    the columns themselves, by name (the ingest hot path): lists of values, or Arrow arrays
    (taken from another table, say), cast to the column's type. NaN and NaT are null either
    way, as pandas has them.
    """
    if isinstance(rows, pd.DataFrame):
        missing = [c for c in contract.column_names if c not in rows.columns]
        if missing:
            raise ContractViolation(f"{contract.table}: rows lack column(s) {missing}")
        columns = [rows[name].astype(object).tolist() for name in contract.column_names]
    elif isinstance(rows, Mapping):
        missing = [c for c in contract.column_names if c not in rows]
        if missing:
            raise ContractViolation(f"{contract.table}: columns {missing} are missing")
        columns = [rows[name] for name in contract.column_names]
    else:
        records = rows if isinstance(rows, list) else list(rows)
        names = contract.column_names
        try:  # rows made for the contract have every key: transposed in C, not a Python loop
            if len(names) == 1:
                columns = [[row[names[0]] for row in records]]
            else:
                columns = list(zip(*map(itemgetter(*names), records), strict=True))
            columns = columns or [[] for _ in names]
        except KeyError:
            columns = [[row.get(name) for row in records] for name in names]
    arrays = []
    for column, values in zip(contract.columns, columns, strict=True):
        try:
            if isinstance(values, pa.Array | pa.ChunkedArray):
                array = values.cast(ARROW_TYPES[column.type])
            else:
                # pyarrow silently truncates 7.5 to 7; whole floats (pandas' ints with gaps) are
                # fine. The set of types, made in C, spares the common all-int column a Python loop.
                if column.type in ("int64", "int32") and not set(map(type, values)) <= _INT_OR_NONE:
                    fractional = [
                        v for v in values if isinstance(v, float | Decimal) and v == v and v % 1
                    ]
                    if fractional:
                        raise ValueError(f"fractional value(s) such as {fractional[0]!r}")
                array = _array(values, column.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
            raise ContractViolation(
                f"{contract.table}.{column.name}: values do not fit type {column.type}: {exc}"
            ) from None
        if not column.nullable and array.null_count:
            raise ContractViolation(
                f"{contract.table}.{column.name} is not nullable but {array.null_count} "
                f"of {len(values)} rows are null"
            )
        arrays.append(array)
    return pa.Table.from_arrays(arrays, names=contract.column_names)


_INT_OR_NONE = frozenset({int, type(None)})


def _array(values: Sequence[Any], logical_type: str) -> pa.Array:
    """Values as an Arrow array; NaN and NaT are null, as pandas has them. Looking for them costs
    ten times the conversion of a long string, so columns that hold none skip the search."""
    arrow_type = ARROW_TYPES[logical_type]
    if logical_type in ("float64", "timestamp_tz", "date"):
        return pa.array(values, type=arrow_type, from_pandas=True)
    try:
        return pa.array(values, type=arrow_type)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array(values, type=arrow_type, from_pandas=True)


def _timestamps_as_text(data: pa.Table) -> pa.Table:
    """Zoned timestamps as the text COPY reads ("2025-06-07 17:00:01.000000Z", the UTC wall clock
    and a Z). Arrow's CSV writer formats a zoned timestamp fifty times slower than this, and that
    was most of the time taken to write Square orders."""
    for index, field in enumerate(data.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            wall_clock = data.column(index).cast(pa.timestamp(field.type.unit))
            text = pc.binary_join_element_wise(wall_clock.cast(pa.string()), "Z", "")
            data = data.set_column(index, field.name, text)
    return data


class Session:
    """One open connection inside a transaction."""

    def __init__(self, kind: str, connection: Any):
        self.kind = kind
        self.connection = connection

    def _sql(self, sql: str) -> str:
        return sql if self.kind == "duckdb" else sql.replace("%", "%%").replace("?", "%s")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        if self.kind == "duckdb":
            self.connection.execute(sql, list(params))
        else:
            with self.connection.cursor() as cursor:
                # always a list: with None psycopg would leave the '%%' escapes of _sql in the SQL
                cursor.execute(self._sql(sql), list(params))

    def query(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        if self.kind == "duckdb":
            return (
                self.connection.sql(sql, params=list(params) or None).to_arrow_table().to_pandas()
            )
        with self.connection.cursor() as cursor:
            cursor.execute(self._sql(sql), list(params))
            columns = [d.name for d in cursor.description]
            return pd.DataFrame(cursor.fetchall(), columns=columns)

    def table_exists(self, table: str) -> bool:
        schema, name = table.split(".", 1)
        found = self.query(
            "select count(*) as n from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, name],
        )
        return int(found["n"].iloc[0]) > 0

    def ensure_table(self, contract: Contract) -> None:
        columns = ", ".join(
            f"{c.name} {SQL_TYPES[c.type]}{'' if c.nullable else ' not null'}"
            for c in contract.columns
        )
        key = f", primary key ({', '.join(contract.primary_key)})" if contract.primary_key else ""
        self.execute(f"create schema if not exists {contract.schema}")
        self.execute(f"create table if not exists {contract.table} ({columns}{key})")
        if contract.partition_column and self.kind == "postgres":
            # The incremental dbt models and the partition audits read a few days: without an
            # index PostgreSQL scans the table (DuckDB's row-group min/max already prune a day).
            # Looked up first: CREATE INDEX IF NOT EXISTS takes a share lock even when it exists.
            index = f"{contract.table}__{contract.partition_column}_idx"
            self.execute(
                f"do $$ begin if to_regclass('{index}') is null then create index if not exists "
                f"{index.split('.', 1)[1]} on {contract.table} ({contract.partition_column}); "
                "end if; end $$"
            )

    def insert(self, table: str, data: pa.Table) -> int:
        """Bulk-append an Arrow table: DuckDB scans it directly, PostgreSQL gets it through COPY."""
        if data.num_rows == 0:
            return 0
        columns = ", ".join(data.column_names)
        if self.kind == "duckdb":
            # No try/finally: after a failed insert DuckDB refuses unregister in the aborted
            # transaction, hiding the real error; the view dies with the session's connection.
            self.connection.register("_marketprep_incoming", data)
            self.connection.execute(
                f"insert into {table} ({columns}) select {columns} from _marketprep_incoming"
            )
            self.connection.unregister("_marketprep_incoming")
        else:
            # Arrow writes the CSV in C++, so COPY runs at the speed of COPY from a file. Strings
            # are always quoted and nulls never are: PostgreSQL tells '' from NULL that way.
            options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
            with (
                self.connection.cursor() as cursor,
                cursor.copy(f"copy {table} ({columns}) from stdin (format csv)") as copy,
            ):
                text = _timestamps_as_text(data)
                for batch in text.to_batches(max_chunksize=COPY_CHUNK_ROWS):
                    # An Arrow sink, not a Python file: the writer then runs without the GIL.
                    sink = pa.BufferOutputStream()
                    pacsv.write_csv(batch, sink, options)
                    copy.write(memoryview(sink.getvalue()))
        return data.num_rows

    def upsert(
        self,
        loads: Sequence[tuple[Contract, pa.Table]],
        *,
        key: Sequence[str],
        version: Sequence[str] = (),
        ensure_tables: bool = True,
    ) -> dict[str, int]:
        """Insert or replace, per `key`, the rows of a parent table and of its child tables.

        The first load is the parent, one row per key; every other load holds child rows of
        those parents (a child row names its parent through the same `key` columns). A parent
        row whose `version` columns compare lower, left to right, than the stored row's is stale:
        it and its children are dropped, so a late page can never roll an order back. For every
        other key, the stored parent and children are deleted and the new ones inserted, so a
        child that disappeared from the source disappears here too. Equal versions replace, which
        makes re-running a load a no-op. Returns the rows inserted per table.

        `ensure_tables=False` skips creating the tables, for a caller that upserts batch after
        batch into tables it has made already: on a busy server each statement is a round trip.
        """
        parent_contract, parent = loads[0]
        if ensure_tables:
            for contract, _ in loads:
                self.ensure_table(contract)
        if parent.num_rows == 0:
            return {contract.table: 0 for contract, _ in loads}
        types = {c.name: SQL_TYPES[c.type] for c in parent_contract.columns}
        staged = [*key, *version]
        incoming = self._stage_keys(parent.select(staged), types)
        matches = " and ".join(f"t.{name} = k.{name}" for name in key)
        newer = _newer_sql(version) if version else "false"
        stored = self.query(
            f"select {', '.join(f'k.{name}' for name in key)}, {newer} as is_newer "
            f"from {incoming} join {parent_contract.table} t on {matches}"
        )
        stale = stored[stored["is_newer"].astype(bool)]
        if len(stale):
            stale_keys = set(stale[list(key)].itertuples(index=False, name=None))
            loads = [(c, _without_keys(data, key, stale_keys)) for c, data in loads]
            self._drop_keys()
            incoming = self._stage_keys(loads[0][1].select(staged), types)
        written = {}
        for contract, data in reversed(loads):  # children first, as a foreign key would need
            if len(stored) > len(stale):  # a first load of these keys has nothing to delete
                self.execute(
                    f"delete from {contract.table} t where exists "
                    f"(select 1 from {incoming} where {matches})"
                )
            written[contract.table] = self.insert(contract.table, data)
        self._drop_keys()
        return {contract.table: written[contract.table] for contract, _ in loads}

    def _stage_keys(self, keys: pa.Table, types: dict[str, str]) -> str:
        """The incoming keys as a relation `k` to join on: a temp table filled by the bulk path.
        (Arrays unnested in each statement were measured twice as slow on PostgreSQL: every
        statement resends and replans them.)"""
        columns = ", ".join(f"{name} {types[name]}" for name in keys.column_names)
        self.execute(f"create temp table {_KEYS} ({columns})")
        self.insert(_KEYS, keys)
        if self.kind == "postgres":
            self.execute(f"analyze {_KEYS}")  # without statistics the planner scans the target
        return f"{_KEYS} k"

    def _drop_keys(self) -> None:
        self.execute(f"drop table {_KEYS}")


_KEYS = "_marketprep_upsert_keys"


def _newer_sql(version: Sequence[str]) -> str:
    """`t` (stored) sorts after `k` (incoming) on the version columns, compared left to right."""
    clauses = []
    for position, name in enumerate(version):
        equal = [f"t.{earlier} = k.{earlier}" for earlier in version[:position]]
        clauses.append("(" + " and ".join([*equal, f"t.{name} > k.{name}"]) + ")")
    return "(" + " or ".join(clauses) + ")"


def _without_keys(data: pa.Table, key: Sequence[str], drop: set[tuple]) -> pa.Table:
    columns = [data.column(name).to_pylist() for name in key]
    keep = [row not in drop for row in zip(*columns, strict=True)]
    return data.filter(pa.array(keep, type=pa.bool_()))


class Warehouse:
    """Opens sessions on the configured backend. Cheap to create; holds no connection between
    calls, except inside `connected()`."""

    def __init__(self, location: WarehouseLocation):
        self.location = location
        self._held: Any = None  # the connection `connected()` keeps open, while no session uses it
        self._held_busy = False

    @property
    def kind(self) -> str:
        return self.location.kind

    def _open(self) -> Any:
        if self.kind == "duckdb":
            import duckdb

            path = self.location.duckdb_path
            path.parent.mkdir(parents=True, exist_ok=True)
            return duckdb.connect(str(path))
        import psycopg

        loc = self.location
        return psycopg.connect(
            host=loc.pg_host,
            port=loc.pg_port,
            user=loc.pg_user,
            password=loc.pg_password or None,
            dbname=loc.pg_dbname,
        )

    def _connect(self) -> Any:
        connection = self._open()
        if self.kind == "duckdb":
            connection.execute("begin transaction")
        return connection

    @contextmanager
    def connected(self) -> Iterator[None]:
        """Keep one connection open for the block; sessions inside it reuse it, each still its
        own transaction. Opening a DuckDB file costs tens of milliseconds (and closing it a
        checkpoint), which adds up over the many small transactions of a vendor-by-vendor sync.
        Outside the block the file is free again, for dbt's own process."""
        if self._held is not None:
            yield
            return
        self._held = self._open()
        try:
            yield
        finally:
            connection, self._held = self._held, None
            connection.close()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back if it raises."""
        if self._held is None or self._held_busy:
            connection = self._connect()
            reused = False
        else:
            connection = self._held
            self._held_busy = reused = True
            if self.kind == "duckdb":
                connection.execute("begin transaction")
        try:
            yield Session(self.kind, connection)
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            if reused:
                self._held_busy = False
            else:
                connection.close()

    def query(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        with self.session() as session:
            return session.query(sql, params)

    def table_exists(self, table: str) -> bool:
        with self.session() as session:
            return session.table_exists(table)

    def replace(
        self,
        contract: Contract,
        rows: pd.DataFrame | Sequence[dict[str, Any]],
        *,
        where: str | None = None,
        params: Sequence[Any] = (),
    ) -> int:
        """Delete what `where` covers (everything when None), then insert `rows`, atomically."""
        return self.replace_many([(contract, rows)], where=where, params=params)[contract.table]

    def replace_many(
        self,
        loads: Sequence[tuple[Contract, pd.DataFrame | Sequence[dict[str, Any]]]],
        *,
        where: str | None = None,
        params: Sequence[Any] = (),
    ) -> dict[str, int]:
        """`replace` for several tables sharing one `where`, in a single transaction."""
        typed = [(contract, to_arrow(contract, rows)) for contract, rows in loads]
        written = {}
        with self.session() as session:
            for contract, data in typed:
                session.ensure_table(contract)
                session.execute(
                    f"delete from {contract.table}" + (f" where {where}" if where else ""), params
                )
                written[contract.table] = session.insert(contract.table, data)
        return written

    def upsert_many(
        self,
        loads: Sequence[tuple[Contract, pd.DataFrame | Sequence[dict[str, Any]]]],
        *,
        key: Sequence[str],
        version: Sequence[str] = (),
    ) -> dict[str, int]:
        """`Session.upsert` in its own transaction: a parent table and its children by key.

        Called once per batch, it streams: memory holds one batch, and each committed batch is
        safe to load again.
        """
        typed = [(contract, to_arrow(contract, rows)) for contract, rows in loads]
        with self.session() as session:
            return session.upsert(typed, key=key, version=version)

    def ensure_tables(self, contracts: Sequence[Contract]) -> None:
        with self.session() as session:
            for contract in contracts:
                session.ensure_table(contract)
