"""Deterministic, provider-looking identifiers drawn from a seeded generator."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

UPPER_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
BASE62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


class IdShape(NamedTuple):
    length: int
    alphabet: str
    prefix: str = ""


# Shapes copied from Square's and PredictHQ's own examples.
LOCATION = IdShape(13, UPPER_DIGITS)  # "18YC4JDH91E1H"
MERCHANT = IdShape(13, UPPER_DIGITS)  # "3MYCJG5GVYQ8Q"
CATALOG = IdShape(24, UPPER_DIGITS)  # "5ZYQZZ2IECPVJ2IJ5KQPRDC3"
ORDER = IdShape(29, BASE62)  # "lgwOlEityYPJtcuvKTVKT1pA986YY"
PAYMENT = IdShape(27, BASE62)  # "EnZdNAlWCmfh6Mt5FMNST1o7taB"
LINE_UID = IdShape(22, BASE62)  # "QW6kofLHJK7JEKMjlSVP5C"
ACCESS_TOKEN = IdShape(60, BASE62 + "-_", "EAAA")  # Square access tokens start with EAAA
EVENT = IdShape(18, BASE62)  # "4hFctf3GqQ2MS5qYLW"
ENTITY = IdShape(22, BASE62)  # "hckgG3yNMg5PRGsL49pNzK"
API_TOKEN = IdShape(40, BASE62)


class IdMaker:
    """Hands out unique random-looking ids; the same generator state gives the same sequence."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._issued: set[str] = set()

    def many(self, shape: IdShape, count: int) -> list[str]:
        """`count` new ids of this shape, none issued before by this maker."""
        letters = np.array(list(shape.alphabet), dtype="<U1")
        out: list[str] = []
        while len(out) < count:
            # Drawing whole rows at once keeps a year of orders fast to build.
            rows = letters[self._rng.integers(0, len(letters), (count - len(out), shape.length))]
            for body in rows.view(f"<U{shape.length}").ravel().tolist():
                value = shape.prefix + body
                if value not in self._issued:
                    self._issued.add(value)
                    out.append(value)
        return out

    def one(self, shape: IdShape) -> str:
        return self.many(shape, 1)[0]
