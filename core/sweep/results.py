"""A sweep's results as a table for the terminal and as a CSV or JSON file (chosen by the
file's extension, written atomically).

CSV: one row per run, columns ``run`` (1, 2, ... in the sweep's order), ``name, <each swept
setting>, reason, epochs, steps, seconds, params, train_loss, train_acc, test_loss, test_acc,
warning`` (settings spelled as ``--sweep`` takes them, e.g. layers ``16-16``; floats written in
full, empty cells where a value does not apply or is not finite). JSON:
``{"format": "nn-playground/sweep", "version": 1, "settings": [...], "runs": [...]}``, each run
with those fields plus its
``settings``, ``spec``, ``config`` and ``history`` (one list per column), null for every value
that is not finite (nan, ±inf).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.atomic import atomic_write
from core.sweep.settings import sweep_value
from core.sweep.task import RunResult

FORMAT = "nn-playground/sweep"
VERSION = 1
#: File extensions and the format each selects.
EXTENSIONS = {".csv": "csv", ".json": "json"}
METRICS = ("train_loss", "train_acc", "test_loss", "test_acc")


def results_format(flag: str, path: str) -> str:
    """``"csv"`` or ``"json"`` from the extension of ``path``; ValueError naming ``flag``."""
    kind = EXTENSIONS.get(Path(path).suffix.lower())
    if kind is None:
        raise ValueError(f"{flag}: {path!r} has no known extension; allowed: a .csv or .json file")
    return kind


def _number(value: float | None) -> float | None:
    """``value`` as a float, None when missing or not finite (JSON has no nan or inf)."""
    return None if value is None or not math.isfinite(value) else float(value)


def result_record(result: RunResult, keys: Sequence[str], *, full: bool) -> dict[str, Any]:
    """The run as a JSON-able dict: the summary fields, and with ``full`` its settings, spec,
    configuration and history too."""
    record: dict[str, Any] = {"run": result.index + 1, "name": result.name}
    record.update({key: sweep_value(key, result.settings.get(key)) for key in keys})
    record.update(
        reason=result.reason,
        epochs=result.epochs,
        steps=result.steps,
        seconds=round(result.seconds, 6),
        params=result.params,
        **{m: _number(getattr(result, m)) for m in METRICS},
        warning=result.warning,
    )
    if full:
        record.update(
            settings={k: sweep_value(k, v) for k, v in result.settings.items()},
            spec=result.spec,
            config=result.config,
            history={k: [_number(v) for v in col.tolist()] for k, col in result.history.items()},
        )
    return record


def results_json(results: Sequence[RunResult], keys: Sequence[str]) -> str:
    document = {
        "format": FORMAT,
        "version": VERSION,
        "settings": list(keys),
        "runs": [result_record(r, keys, full=True) for r in results],
    }
    return json.dumps(document, allow_nan=False, indent=1) + "\n"


def results_csv(results: Sequence[RunResult], keys: Sequence[str]) -> str:
    out = io.StringIO()
    rows = [result_record(r, keys, full=False) for r in results]
    columns = ["run", "name", *keys, "reason", "epochs", "steps", "seconds", "params"]
    columns += [*METRICS, "warning"]
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row[k] is None else row[k] for k in columns})
    return out.getvalue()


def write_results(path: str, results: Sequence[RunResult], keys: Sequence[str]) -> None:
    """Write the results to ``path`` atomically, as CSV or JSON by its extension."""
    kind = results_format("--results", path)
    text = results_csv(results, keys) if kind == "csv" else results_json(results, keys)
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1e5 else f"{value:.4g}"
    return str(value)


def results_table(results: Sequence[RunResult], keys: Sequence[str]) -> str:
    """A plain-text table, one row per run in task order: name, the swept settings, final
    metrics, epochs, seconds, parameters and why it stopped."""
    head = ["run", "name", *keys, *(m.replace("_", " ") for m in METRICS)]
    head += ["epochs", "seconds", "params", "stopped"]
    rows = []
    for r in sorted(results, key=lambda r: r.index):
        setting = [_setting(sweep_value(k, r.settings.get(k))) for k in keys]
        metrics = [_cell(getattr(r, m)) for m in METRICS]
        rows.append(
            [str(r.index + 1), r.name, *setting, *metrics, str(r.epochs), f"{r.seconds:.2f}"]
            + [f"{r.params:,}", r.reason]
        )
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    left = {1, len(head) - 1}  # the name and the reason read left to right
    lines = []
    for row in [head, *rows]:
        cells = [
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def _setting(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return "-" if value is None or value == "" else str(value)
