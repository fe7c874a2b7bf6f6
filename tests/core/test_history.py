"""The metric history: rows appended into growing columns, and views of it that never change."""

import numpy as np
import pytest

from core.training.history import History


def rows(start, n):
    """``n`` rows of made-up metrics for epochs ``start + 1``... (nan: no accuracy)."""
    epochs = np.arange(start + 1, start + n + 1, dtype=np.float64)
    out = np.column_stack([epochs, 10 * epochs, epochs / 100, np.full(n, 0.01)] + [1 / epochs] * 4)
    out[:, 5] = np.nan
    return out


def test_appended_and_extended_rows_come_back_in_order():
    history = History()
    history.append(*rows(0, 1)[0, :5], None, *rows(0, 1)[0, 6:])
    history.extend(rows(1, 200))  # past the first capacity
    np.testing.assert_array_equal(history.rows(), rows(0, 201))
    np.testing.assert_array_equal(history.rows(195), rows(195, 6))
    assert len(history) == 201 and history.last("epoch") == 201.0
    assert history.last("train_acc") is None
    np.testing.assert_array_equal(History.from_rows(rows(0, 70)).column("step"), rows(0, 70)[:, 1])


def test_views_never_change_as_the_history_grows():
    history = History.from_rows(rows(0, 3))
    early = history.view()
    before = {name: column.copy() for name, column in early.items()}
    for n in range(3, 5000, 7):  # grows several times
        history.extend(rows(n, 7))
    for name, column in early.items():
        np.testing.assert_array_equal(column, before[name])
        with pytest.raises(ValueError):
            column[0] = 0.0
    assert len(history.view()["epoch"]) == len(history) == 5001


def test_rows_of_the_wrong_shape_are_refused():
    with pytest.raises(ValueError, match="expected \\(n, 8\\)"):
        History().extend(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="values for the columns"):
        History().append(1.0, 2.0)
