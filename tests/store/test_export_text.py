"""Numbers as export text: exact, and the words for what is not an ordinary number."""

from __future__ import annotations

import io
import json

import numpy as np
import pyarrow.csv as pcsv
import pytest

from firmware_bridge.store._export_text import (
    CSV_WORDS,
    JSON_WORDS,
    csv_rows,
    json_items,
    number_texts,
)


def test_every_finite_float64_reads_back_exactly() -> None:
    rng = np.random.default_rng(7)
    bits = rng.integers(0, 2**63, size=200_000, dtype=np.uint64) | (
        rng.integers(0, 2, size=200_000, dtype=np.uint64) << np.uint64(63)
    )
    values = bits.view(np.float64)
    values = values[np.isfinite(values)]
    texts = number_texts(values, b",", CSV_WORDS).to_pylist()
    assert [float(t[:-1]) for t in texts] == values.tolist()
    assert np.array_equal(np.signbit([float(t[:-1]) for t in texts]), np.signbit(values))


def test_the_shortest_text() -> None:
    values = np.array([0.0, 0.0125, 0.1 + 0.2, 1e-7, 3.0, -0.0, 1e21])
    texts = number_texts(values, b"\n", CSV_WORDS).to_pylist()
    assert texts == ["0.0\n", "0.0125\n", "0.30000000000000004\n", "1e-7\n", "3.0\n", "-0.0\n",
                     "1e+21\n"]  # fmt: skip


@pytest.mark.parametrize(
    ("words", "expected"),
    [(CSV_WORDS, ["1.5,", ",", "inf,", "-inf,", "2.0,"]),
     (JSON_WORDS, ["1.5,", "null,", "1e999,", "-1e999,", "2.0,"])],
)  # fmt: skip
def test_unknown_and_infinite_values_keep_their_meaning(words: object, expected: list[str]) -> None:
    values = np.array([1.5, np.nan, np.inf, -np.inf, 2.0])
    assert number_texts(values, b",", words).to_pylist() == expected  # type: ignore[arg-type]


def _batch(n: int) -> dict[str, np.ndarray]:
    t = np.arange(n) * 0.0125
    force = np.sin(t) * 10
    force[1] = np.nan
    raw = np.round(force * 1000)
    raw[2] = np.nan
    zone = np.zeros(n, np.int8)
    zone[3] = 3
    return {"t_s": t, "force_n": force, "filtered_n": force, "zone": zone, "raw": raw}


def test_csv_rows_read_back_as_the_batch() -> None:
    batch = _batch(5000)
    columns = ["t_s", "force_n", "filtered_n", "zone", "raw", "pressure_kpa"]
    text = ",".join(columns).encode() + b"\n" + csv_rows(batch, columns, 0.5)
    table = pcsv.read_csv(io.BytesIO(text))
    for name in ("t_s", "force_n", "filtered_n", "raw"):
        assert np.array_equal(
            table[name].to_numpy(zero_copy_only=False), batch[name], equal_nan=True
        )
    assert np.array_equal(
        table["pressure_kpa"].to_numpy(zero_copy_only=False),
        10 * batch["force_n"] / 0.5,
        equal_nan=True,
    )
    assert text.count(b"\n") == 5001 and text.endswith(b"\n")
    assert b"\n0.0,0.0,0.0,relaxed,0,0.0\n" in b"\n" + text.split(b"\n", 1)[1]


def test_json_items_read_back_as_the_batch() -> None:
    batch = _batch(3000)
    for column in ("t_s", "force_n", "zone", "raw"):
        items = json.loads(b"[" + json_items(batch, column, None) + b"]")
        if column == "zone":
            assert items[3] != items[0] and all(isinstance(z, str) for z in items)
            continue
        got = np.array([np.nan if v is None else v for v in items], dtype=np.float64)
        assert np.array_equal(got, batch[column], equal_nan=True)
    assert json_items({"t_s": np.array([])}, "t_s", None) == b""
