"""Input checks shared by the models_ml entry points."""

import pandas as pd


def require_columns(frame: pd.DataFrame, columns: list[str], name: str) -> None:
    """Raise ValueError naming the columns ``frame`` (called ``name`` in the message) lacks."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{name} is missing columns {missing}; it has {list(frame.columns)}")
