"""Run one function over many series in worker processes; one failure stays that series' own."""

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def map_isolated(
    function: Callable[[Item], Result], items: Sequence[Item], workers: int
) -> list[tuple[Result | None, str | None]]:
    """(result, None) or (None, "<ExceptionType>: <message>") per item, in the items' order.

    ``function`` must be a module-level function (it is pickled to the workers). workers 1, or
    a single item, runs inline in this process.
    """
    if workers == 1 or len(items) <= 1:
        return [_guarded(function, item) for item in items]
    # spawn, not fork: forking a threaded parent (Dagster, gRPC servers) can deadlock the child.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(items)), mp_context=context) as pool:
        submitted = [pool.submit(_guarded, function, item) for item in items]
        outcomes = []
        for future in submitted:
            try:
                outcomes.append(future.result())
            except Exception as exc:  # the worker process died; only its series are lost
                outcomes.append((None, describe(exc)))
    return outcomes


def describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def _guarded(function: Callable[[Item], Result], item: Item) -> tuple[Result | None, str | None]:
    try:
        return function(item), None
    # Any failure is this item's problem (bad data, a diverging fit); it is reported, not
    # raised, so the other items still run.
    except Exception as exc:
        return None, describe(exc)
