"""A run's name, made from what differs from the run before it: ``"adam lr 0.03 · 16-16 relu"``
(the training settings, the network, the data, each part only if it changed). Pure functions
over two sessions' ``to_dict()`` (plane or images); no Qt.
"""

from __future__ import annotations

from typing import Any

#: Parts of a session, in the order a name lists them.
SECTIONS = ("training", "network", "data")
#: Longest name made (a longer one is cut with "…").
MAX_CHARS = 80
#: How some training and data settings are called in a name (others by their own name).
WORDS = {
    "lr": "lr",
    "batch_size": "batch",
    "l1": "L1",
    "l2": "L2",
    "clip_norm": "clip",
    "optimizer_params": "",
    "n_samples": "points",
    "test_ratio": "test",
    "n_classes": "classes",
    "train_subset": "train",
    "test_subset": "test",
}
#: Settings a name shows by their value alone (``"adam"``, ``"spiral"``).
BARE = {"optimizer", "dataset"}
#: Settings that never name a run (the same run by another route).
SILENT = {"epochs", "csv_sha256", "queued_edits", "folder", "mode"}
#: What names a first run (or one that changed nothing), by part; zero rates are left out.
DESCRIBE = {
    "training": ("optimizer", "lr", "batch_size", "l1", "l2"),
    "network": ("hidden",),
    "data": ("dataset",),
}


def run_name(previous: dict[str, Any] | None, current: dict[str, Any]) -> str:
    """The name of a run with settings ``current`` after one with ``previous`` (None: the
    first run): the settings that differ, by part (training · network · data); every
    training and network setting that shapes the run when nothing differs or there is no
    previous run."""
    parts = []
    for section in SECTIONS:
        now = current.get(section)
        if not isinstance(now, dict):
            continue
        before = previous.get(section) if isinstance(previous, dict) else None
        before = before if isinstance(before, dict) else {}
        words = section_words(section, before, now)
        if words:
            parts.append(words)
    if not parts:
        parts = [section_words(s, {}, current[s]) for s in SECTIONS[:2] if s in current]
        parts = [p for p in parts if p]
    name = " · ".join(parts) or "run"
    return name if len(name) <= MAX_CHARS else name[: MAX_CHARS - 1] + "…"


def section_words(section: str, before: dict[str, Any], now: dict[str, Any]) -> str:
    """The changed settings of one part of a session as words (all of them if ``before`` is
    empty, leaving out defaults that say nothing: zero rates, no schedule)."""
    fresh = not before
    words = []
    for key, value in now.items():
        if key in SILENT or (not fresh and before.get(key) == value):
            continue
        if fresh and (key not in DESCRIBE.get(section, ()) or value in (None, 0, 0.0)):
            continue
        if key == "optimizer_params" and before.get("optimizer") != now.get("optimizer"):
            continue  # another optimizer's defaults
        words.append(setting_words(section, key, value))
    return " ".join(w for w in words if w)


def setting_words(section: str, key: str, value: Any) -> str:
    """One setting as words: ``"adam"``, ``"lr 0.03"``, ``"16-16 relu"``, ``"edited points"``."""
    if section == "network" and key == "hidden" and isinstance(value, list):
        return network_words(value)
    if key == "edits":
        return f"{len(value)} edited points" if isinstance(value, list) else "edited points"
    if key in BARE:
        return short(value)
    word = WORDS.get(key, key.replace("_", " "))
    if key == "optimizer_params" and isinstance(value, dict):
        return " ".join(f"{k} {short(v)}" for k, v in value.items())
    if key == "schedule":
        return f"{word} {short(value.get('name') if isinstance(value, dict) else 'constant')}"
    return f"{word} {short(value)}".strip()


def network_words(hidden: list[Any]) -> str:
    """Hidden rows as words: ``"16-16 relu"`` (one activation for all), ``"16 relu-8 tanh"``,
    ``"conv16×5 maxpool2 100 relu"``; batch norm and dropout after their row."""
    rows = [h for h in hidden if isinstance(h, dict)]
    acts = {h.get("activation") for h in rows if h.get("kind", "dense") in ("dense", "conv")}
    one = len(acts) == 1
    parts = []
    for h in rows:
        kind = h.get("kind", "dense")
        if kind == "conv":
            part = f"conv{short(h.get('filters'))}×{short(h.get('kernel'))}"
        elif kind in ("maxpool", "avgpool"):
            part = f"{kind}{short(h.get('size'))}"
        else:
            part = short(h.get("units"))
        if kind in ("dense", "conv"):
            part += " bn" if h.get("batchnorm") else ""
            dropout = h.get("dropout") or 0
            part += f" drop {short(dropout)}" if dropout else ""
            part += "" if one else f" {short(h.get('activation'))}"
        parts.append(part)
    text = "-".join(parts) if parts else "no hidden layer"
    return f"{text} {short(next(iter(acts)))}" if one and rows else text


def short(value: Any) -> str:
    """A value in a few characters: numbers with 3 significant digits, long text cut."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, list) and all(isinstance(v, (int, float)) for v in value):
        return "/".join(short(v) for v in value)
    text = str(value)
    return text if len(text) <= 24 else text[:23] + "…"
