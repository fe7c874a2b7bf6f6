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
    only for pinned runs, and only for the first :data:`MAX_PINNED` of them (the others are
    written without, as :func:`expected_runs` would refuse them). Each run is checked as its
    reader checks it: ValueError naming the run for more than :data:`MAX_RUNS` runs or a run
    the reader would refuse."""
    if len(records) > MAX_RUNS:
        raise ValueError(f"runs: {len(records)} runs; at most {MAX_RUNS:,} are kept")
    entries, arrays, with_weights = [], {}, 0
    for i, record in enumerate(records):
        entry = record_meta(record)
        if entry["weights"] and with_weights >= MAX_PINNED:
            entry["weights"] = False
            del entry["spec"]
        with_weights += entry["weights"]
        history = np.asarray(record.history, np.float64)
        try:
            check_record_meta(entry)
            check_history_rows(history)
        except ValueError as exc:
            raise ValueError(f"run {i + 1} ({record.name[:40]}): {exc}") from None
        entries.append(entry)
        arrays[f"{prefix}{i}/history"] = history
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
    path: str | os.PathLike, entries: Any, prefix: str, skipped: list[str] | None = None
) -> tuple[list[dict[str, Any]], dict[str, Expected]]:
    """Check the ``"runs"`` list of a ``meta.json``; returns the checked entries and the
    members they call for, each with its exact shape. Each entry keeps its place in the list
    as ``"index"``. With ``skipped`` (a list), a run that fails its checks is left out and
    named there, and runs with weights past :data:`MAX_PINNED` are read without them;
    without it, any problem refuses the file (ModelFileError)."""
    if not isinstance(entries, list):
        raise ModelFileError(f"{path}: meta.json's 'runs' is not a list")
    if len(entries) > MAX_RUNS:
        raise ModelFileError(f"{path}: {len(entries):,} runs; refusing (at most {MAX_RUNS})")
    checked, expected, ids = [], {}, set()
    for i, entry in enumerate(entries):
        try:
            entry = _checked_entry(path, i, entry, ids)
        except ValueError as exc:
            if skipped is None:
                raise ModelFileError(str(exc)) from None
            skipped.append(str(exc))
            continue
        ids.add(entry["id"])
        if entry["weights"] and sum(e["weights"] for e in checked) >= MAX_PINNED:
            if skipped is None:
                raise ModelFileError(f"{path}: more than {MAX_PINNED} runs keep weights; refusing")
            skipped.append(
                f"{path}: run {i + 1}: past {MAX_PINNED} runs with weights; its "
                "weights were not read"
            )
            entry["weights"] = False
        expected.update(_members(prefix, entry))
        checked.append(entry)
    return checked, expected


def _checked_entry(path: str | os.PathLike, i: int, entry: Any, ids: set[str]) -> dict[str, Any]:
    """One run's checked JSON part (see :func:`expected_runs`); ValueError naming it."""
    try:
        entry = check_record_meta(entry)
    except ValueError as exc:
        raise ValueError(f"{path}: run {i + 1}: {exc}") from None
    if entry["id"] in ids:
        raise ValueError(f"{path}: run {i + 1}: its id appears twice")
    entry["index"] = i
    if entry["weights"]:
        entry["spec"] = check_spec(f"{path}: run {i + 1}", entry["spec"])
        entry["shapes"] = state_shapes(f"{path}: run {i + 1}", entry["spec"])
    return entry


def _members(prefix: str, entry: dict[str, Any]) -> dict[str, Expected]:
    """The members one checked run calls for, with their exact shapes."""
    i = entry["index"]
    members = {f"{prefix}{i}/history": Expected((entry["rows"], len(COLUMNS)))}
    if entry["weights"]:
        for key, shape in entry["shapes"].items():
            members[f"{prefix}{i}/{key}"] = Expected(shape)
    return members


def read_runs(
    archive: Archive, entries: list[dict[str, Any]], prefix: str, skipped: list[str] | None = None
) -> list[RunRecord]:
    """The runs of ``entries`` (from :func:`expected_runs`), their members read from
    ``archive`` (whose members :meth:`Archive.expect` has checked) and checked. With
    ``skipped``, a run whose arrays fail their checks is left out and named there."""
    records = []
    for entry in entries:
        try:
            records.append(_read_run(archive, entry, prefix))
        except ValueError as exc:
            if skipped is None:
                raise
            skipped.append(str(exc))
    return records


def _read_run(archive: Archive, entry: dict[str, Any], prefix: str) -> RunRecord:
    """One run's record, its arrays read and checked; ModelFileError naming the run."""
    path, i = archive.path, entry["index"]
    try:
        history = archive.read(f"{prefix}{i}/history", Expected((entry["rows"], len(COLUMNS))))
        history = history.astype(np.float64)
        check_history_rows(history)
        weights = None
        if entry["weights"]:
            weights = {}
            for name, shape in entry["shapes"].items():
                value = archive.read(f"{prefix}{i}/{name}", Expected(shape))
                weights[name.partition("/")[2]] = check_values(path, name, value, np.float32)
    except ValueError as exc:
        raise ModelFileError(f"{path}: run {i + 1}: {str(exc).removeprefix(f'{path}: ')}") from None
    return RunRecord(
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


def load_runs(path: str | os.PathLike) -> tuple[list[RunRecord], list[str]]:
    """Read and check a runs file (see the module docstring) run by run: ``(runs, skipped)``,
    ``skipped`` naming each run left out and why (the others are kept). ModelFileError when
    the file itself can't be read (not a runs file, its list or its members' sizes)."""
    skipped: list[str] = []
    with Archive(path, "runs file") as archive:
        meta = read_meta(archive, FORMAT, VERSION)
        entries, expected = expected_runs(path, meta.get("runs"), "", skipped)
        entries = [e for e in entries if _members_fit(archive, e, skipped)]
        expected = {k: v for e in entries for k, v in _members("", e).items()}
        # the members of runs (or weights) left out are not looked at; any other is refused
        listed = {str(i) for i in range(len(meta["runs"]))}
        archive.members = {
            k: v
            for k, v in archive.members.items()
            if k in expected or k.partition("/")[0] not in listed
        }
        archive.expect({"meta.json": META, **expected})  # before any run is decompressed
        return read_runs(archive, entries, "", skipped), skipped


def _members_fit(archive: Archive, entry: dict[str, Any], skipped: list[str]) -> bool:
    """Whether a run's members (a runs file's) are all there, none declaring more than its
    shape takes; False (and named in ``skipped``) otherwise."""
    for key, want in _members("", entry).items():
        info = archive.members.get(key)
        if info is None or info.file_size > want.nbytes:
            what = "is missing" if info is None else "is larger than its shape"
            skipped.append(f"{archive.path}: run {entry['index'] + 1}: {key} {what}")
            return False
    return True
