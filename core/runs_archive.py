"""Run records in ``.npz`` archives: the app's runs file (one per mode, in the per-user data
folder) and the runs section of an experiment file, written and read the same way.

Each run's JSON part (:func:`core.runs.record_meta`) goes in ``meta.json``'s ``"runs"`` list;
its arrays are members named after its place in the list::

    <prefix><i>/history          (rows, 8) float64, rows as meta.json's entry declares
    <prefix><i>/param/<k>.<name> a pinned run's weights, shapes from its entry's "spec"
    <prefix><i>/buffer/<k>.<name>

Reading checks every entry and derives each member's exact shape from it before
:meth:`core.archive.Archive.expect` looks at the members (nothing is allocated on a size the
file declares alone); every problem is a ModelFileError naming the file and the run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from core.archive import META, Archive, Expected, ModelFileError, meta_array, read_meta, write_npz
from core.data.locations import user_data_folder
from core.io import check_spec, check_values, state_shapes
from core.runs import (
    COLUMNS,
    MAX_PINNED,
    MAX_RUNS,
    RunRecord,
    check_history_rows,
    check_record_meta,
    record_meta,
)

FORMAT = "nn-playground/runs"
VERSION = 1
#: Environment variable naming the folder of the runs files (default: the per-user data folder's
#: ``runs``).
ENV_VAR = "NN_PLAYGROUND_RUNS"
#: Members of the runs section of an experiment file start with this.
EXPERIMENT_PREFIX = "runs/"


def runs_folder() -> Path:
    """Where the runs files live: ``$NN_PLAYGROUND_RUNS``, else ``<per-user data folder>/runs``
    (:func:`core.data.locations.user_data_folder`). Nothing is created."""
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else user_data_folder() / "runs"


# -- writing -------------------------------------------------------------------------------------
def runs_arrays(
    records: list[RunRecord], prefix: str
) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    """``(entries, arrays)``: each run's JSON part and its members under ``prefix``; weights
    only for pinned runs. ValueError for more than :data:`MAX_RUNS` runs."""
    if len(records) > MAX_RUNS:
        raise ValueError(f"runs: {len(records)} runs; at most {MAX_RUNS:,} are kept")
    entries, arrays = [], {}
    for i, record in enumerate(records):
        entry = record_meta(record)
        entries.append(entry)
        arrays[f"{prefix}{i}/history"] = np.asarray(record.history, np.float64)
        if entry["weights"]:
            shapes = state_shapes("run", check_spec("run", record.spec))
            for key in shapes:
                value = record.weights[key.partition("/")[2]]
                arrays[f"{prefix}{i}/{key}"] = np.asarray(value, np.float32)
    return entries, arrays


def save_runs(path: str | os.PathLike, records: list[RunRecord]) -> None:
    """Write a runs file atomically (its folder is created if needed)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    entries, arrays = runs_arrays(records, "")
    meta = {"format": FORMAT, "version": VERSION, "runs": entries}
    write_npz(path, {"meta.json": meta_array(meta, "runs"), **arrays})


# -- reading -------------------------------------------------------------------------------------
def expected_runs(
    path: str | os.PathLike, entries: Any, prefix: str
) -> tuple[list[dict[str, Any]], dict[str, Expected]]:
    """Check the ``"runs"`` list of a ``meta.json``; returns the checked entries and the
    members they call for, each with its exact shape."""
    if not isinstance(entries, list):
        raise ModelFileError(f"{path}: meta.json's 'runs' is not a list")
    if len(entries) > MAX_RUNS:
        raise ModelFileError(f"{path}: {len(entries):,} runs; refusing (at most {MAX_RUNS})")
    checked, expected, ids = [], {}, set()
    for i, entry in enumerate(entries):
        try:
            entry = check_record_meta(entry)
        except ValueError as exc:
            raise ModelFileError(f"{path}: run {i + 1}: {exc}") from None
        if entry["id"] in ids:
            raise ModelFileError(f"{path}: run {i + 1}: its id appears twice")
        ids.add(entry["id"])
        expected[f"{prefix}{i}/history"] = Expected((entry["rows"], len(COLUMNS)))
        if entry["weights"]:
            entry["spec"] = check_spec(f"{path}: run {i + 1}", entry["spec"])
            entry["shapes"] = state_shapes(f"{path}: run {i + 1}", entry["spec"])
            for key, shape in entry["shapes"].items():
                expected[f"{prefix}{i}/{key}"] = Expected(shape)
        checked.append(entry)
    if sum(e["weights"] for e in checked) > MAX_PINNED:
        raise ModelFileError(f"{path}: more than {MAX_PINNED} runs keep weights; refusing")
    return checked, expected


def read_runs(archive: Archive, entries: list[dict[str, Any]], prefix: str) -> list[RunRecord]:
    """The runs of ``entries`` (from :func:`expected_runs`), their members read from
    ``archive`` (whose members :meth:`Archive.expect` has checked) and checked."""
    path, records = archive.path, []
    for i, entry in enumerate(entries):
        key = f"{prefix}{i}/history"
        history = archive.read(key, Expected((entry["rows"], len(COLUMNS)))).astype(np.float64)
        try:
            check_history_rows(history)
        except ValueError as exc:
            raise ModelFileError(f"{path}: run {i + 1}: {exc}") from None
        weights = None
        if entry["weights"]:
            weights = {}
            for name, shape in entry["shapes"].items():
                value = archive.read(f"{prefix}{i}/{name}", Expected(shape))
                key = name.partition("/")[2]
                weights[key] = check_values(path, f"run {i + 1} {name}", value, np.float32)
        records.append(
            RunRecord(
                id=entry["id"],
                name=entry["name"],
                mode=entry["mode"],
                settings=entry["settings"],
                history=history,
                epochs=entry["epochs"],
                steps=entry["steps"],
                wall_time=entry["wall_time"],
                n_params=entry["n_params"],
                pinned=entry["pinned"],
                created=entry["created"],
                spec=entry.get("spec") if weights is not None else None,
                weights=weights,
            )
        )
    return records


def load_runs(path: str | os.PathLike) -> list[RunRecord]:
    """Read and check a runs file (see the module docstring); ModelFileError for any problem."""
    with Archive(path, "runs file") as archive:
        meta = read_meta(archive, FORMAT, VERSION)
        entries, expected = expected_runs(path, meta.get("runs"), "")
        archive.expect({"meta.json": META, **expected})  # before any run is decompressed
        return read_runs(archive, entries, "")
