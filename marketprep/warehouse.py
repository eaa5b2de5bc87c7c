"""The warehouse: one small API over the embedded DuckDB file and PostgreSQL.

Every write is a bulk write (Arrow into DuckDB, COPY into PostgreSQL) inside one transaction, and
every load replaces what it covers, so re-running a partition never duplicates rows.
SQL passed in here uses `?` placeholders on both backends.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pandas as pd
import pyarrow as pa

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


def to_arrow(contract: Contract, rows: pd.DataFrame | Sequence[dict[str, Any]]) -> pa.Table:
    """Typed Arrow table in the contract's column order; names the column when a value does not fit."""
    frame = (
        rows
        if isinstance(rows, pd.DataFrame)
        else pd.DataFrame(list(rows), columns=contract.column_names)
    )
    missing = [c for c in contract.column_names if c not in frame.columns]
    if missing:
        raise ContractViolation(f"{contract.table}: rows lack column(s) {missing}")
    arrays = []
    for column in contract.columns:
        values = frame[column.name]
        python_values = values.astype(object).where(values.notna(), None).tolist()
        try:
            if column.type in ("int64", "int32"):
                # pyarrow silently truncates 7.5 to 7; whole floats (pandas' ints with gaps) are fine
                fractional = [v for v in python_values if isinstance(v, float | Decimal) and v % 1]
                if fractional:
                    raise ValueError(f"fractional value(s) such as {fractional[0]!r}")
            arrays.append(pa.array(python_values, type=ARROW_TYPES[column.type]))
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
            raise ContractViolation(
                f"{contract.table}.{column.name}: values do not fit type {column.type}: {exc}"
            ) from None
        if not column.nullable and arrays[-1].null_count:
            raise ContractViolation(
                f"{contract.table}.{column.name} is not nullable but {arrays[-1].null_count} "
                f"of {len(values)} rows are null"
            )
    return pa.Table.from_arrays(arrays, names=contract.column_names)


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
            with (
                self.connection.cursor() as cursor,
                cursor.copy(f"copy {table} ({columns}) from stdin") as copy,
            ):
                for batch in data.to_batches(max_chunksize=10_000):
                    for row in zip(*(col.to_pylist() for col in batch.columns), strict=True):
                        copy.write_row(row)
        return data.num_rows


class Warehouse:
    """Opens sessions on the configured backend. Cheap to create; holds no connection between calls."""

    def __init__(self, location: WarehouseLocation):
        self.location = location

    @property
    def kind(self) -> str:
        return self.location.kind

    def _connect(self) -> Any:
        if self.kind == "duckdb":
            import duckdb

            path = self.location.duckdb_path
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = duckdb.connect(str(path))
            connection.execute("begin transaction")
            return connection
        import psycopg

        loc = self.location
        return psycopg.connect(
            host=loc.pg_host,
            port=loc.pg_port,
            user=loc.pg_user,
            password=loc.pg_password or None,
            dbname=loc.pg_dbname,
        )

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back if it raises."""
        connection = self._connect()
        try:
            yield Session(self.kind, connection)
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
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

    def ensure_tables(self, contracts: Sequence[Contract]) -> None:
        with self.session() as session:
            for contract in contracts:
                session.ensure_table(contract)
