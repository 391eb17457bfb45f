"""Merging a child scenario's overrides over its parent (``extends``, and the ``[data]`` defaults)."""

from __future__ import annotations

from stockpile.scenario.series import parse_fy

NAMED_LISTS = ("supply", "recycling")


class MergeError(ValueError):
    """An override that cannot be merged; ``where`` is its key path in the child file."""

    def __init__(self, where: str, reason: str):
        super().__init__(reason)
        self.where = where


def merge_overrides(base: dict, override: dict, _path: str = "") -> dict:
    """Apply a child scenario's overrides to its parent.

    Tables merge key by key; a per-FY table (keys that are FYs, or ``ramp``) replaces the parent's
    value whole, since merging two time series entry by entry is never what a planner means.
    ``[[supply]]`` and ``[[recycling]]`` entries merge by ``name``: a child entry with a parent's
    name overrides its keys, ``remove = true`` drops it, a new name is appended.
    """
    merged = dict(base)
    for key, value in override.items():
        here = f"{_path}.{key}" if _path else key
        old = merged.get(key)
        if key in NAMED_LISTS and not _path and isinstance(value, list) and isinstance(old, list):
            merged[key] = _merge_named(key, old, value)
        elif isinstance(value, dict) and isinstance(old, dict) and not _is_series_table(value):
            merged[key] = merge_overrides(old, value, here)
        else:
            merged[key] = value
    return merged


def _merge_named(section: str, base: list, override: list) -> list:
    result = [dict(item) if isinstance(item, dict) else item for item in base]
    # Only text names match (a name of another type is reported by validation, not merged).
    index = {item["name"]: i for i, item in enumerate(result)
             if isinstance(item, dict) and isinstance(item.get("name"), str)}
    removed = set()
    for position, item in enumerate(override, start=1):
        name = item.get("name") if isinstance(item, dict) and isinstance(item.get("name"), str) else None
        if name not in index and isinstance(item, dict) and item.get("remove") is True:
            raise MergeError(f"{section}[{position}].remove", f"there is no {section} entry named {name!r} "
                                                              f"in the extended file to remove")
        if name in index:
            if item.get("remove") is True:
                removed.add(index[name])
            else:
                result[index[name]] = {**result[index[name]], **item}
        else:
            result.append(item)
    return [item for i, item in enumerate(result) if i not in removed]


def _is_series_table(value: dict) -> bool:
    if set(value) == {"ramp"}:
        return True
    try:
        return bool(value) and all(parse_fy(k) for k in value)
    except ValueError:
        return False

