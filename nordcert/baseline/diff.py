"""What changed between two catalogue versions: controls added, removed and changed, field by field.

A changed control lists each change as ``{"field", "before", "after"}``; a mapping list (``dora``, ``nis2``,
``csf``) also says which references were ``added`` and ``removed``, and criteria are compared by their id
(``criteria GOV-01.2``), so an analyst sees "criterion 2's text changed" rather than "the criteria differ".
"""

from __future__ import annotations

from typing import Any

from nordcert.baseline.catalogue import Catalogue, Control, Criterion, control_to_dict

_FIELDS = ("domain", "title", "objective", "target", "priority", "guidance")
_MAPPINGS = ("dora", "nis2", "csf")


def diff(before: Catalogue, after: Catalogue) -> dict[str, Any]:
    """The changes from ``before`` to ``after``, controls in ``after``'s order (removed ones in ``before``'s)."""
    old = {c.id: c for c in before.controls}
    new = {c.id: c for c in after.controls}
    added = [control_to_dict(c) for c in after.controls if c.id not in old]
    removed = [control_to_dict(c) for c in before.controls if c.id not in new]
    changed: list[dict[str, Any]] = []
    for c in after.controls:
        if c.id in old and old[c.id] != c:
            changed.append({"id": c.id, "title": c.title, "domain": c.domain, "changes": control_changes(old[c.id], c)})
    return {
        "from": before.version,
        "to": after.version,
        "title": None if before.title == after.title else {"before": before.title, "after": after.title},
        "scale": [{"level": b.level, "before": {"name": a.name, "description": a.description},
                   "after": {"name": b.name, "description": b.description}}
                  for a, b in zip(before.scale, after.scale, strict=True) if a != b],
        "domains": [{"key": b.key, "before": {"name": a.name, "description": a.description},
                     "after": {"name": b.name, "description": b.description}}
                    for a in before.domains for b in after.domains if a.key == b.key and a != b],
        "added": added,
        "removed": removed,
        "changed": changed,
        "unchanged": sum(1 for c in after.controls if c.id in old and old[c.id] == c),
    }


def control_changes(a: Control, b: Control) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = []
    for name in _FIELDS:
        if getattr(a, name) != getattr(b, name):
            changes.append({"field": name, "before": getattr(a, name), "after": getattr(b, name)})
    for name in _MAPPINGS:
        x, y = getattr(a, name), getattr(b, name)
        if x != y:
            changes.append({"field": name, "before": list(x), "after": list(y),
                            "added": [r for r in y if r not in x], "removed": [r for r in x if r not in y]})
    old = {k.id: k for k in a.criteria}
    new = {k.id: k for k in b.criteria}
    for kid in [*old, *(k for k in new if k not in old)]:
        if old.get(kid) != new.get(kid):
            changes.append({"field": f"criteria {kid}", "before": _criterion(old.get(kid)),
                            "after": _criterion(new.get(kid))})
    return changes


def _criterion(k: Criterion | None) -> dict[str, Any] | None:
    return None if k is None else {"text": k.text, "level": k.level}
