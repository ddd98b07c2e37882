"""The dependency graph the analysis works on, independent of storage.

Nodes are business processes, systems, ICT third-party providers, the providers' services, and shared
infrastructure (payment and settlement systems, data centres, cloud regions, network providers). An edge
``a → b`` reads "a depends on b". The store (:mod:`nordcert.sectormap.service`) builds one :class:`Graph`
with a few queries; the analysis (:mod:`nordcert.sectormap.analysis`) never touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Node kinds, in the order a dependency usually runs: a process depends on systems, a system on
#: provider services and infrastructure, a provider service on infrastructure.
KINDS = ("process", "system", "provider", "service", "infrastructure")


@dataclass(frozen=True, slots=True)
class Node:
    id: str  # stable and unique across the sector, e.g. "process:17"
    kind: str  # one of KINDS
    name: str
    organisation_id: int | None = None  # the member that maintains it; None for shared nodes
    critical: bool = False  # a critical or important function (processes), or critical for it (others)
    category: str | None = None  # service category (e.g. "cloud", "payments-processing"), for HHI
    unknown: bool = False  # a dependency named but not yet described ("we use a provider, details unknown")


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)
    #: node id -> the ids it depends on
    depends_on: dict[str, set[str]] = field(default_factory=dict)

    def add(self, node: Node) -> None:
        self.nodes[node.id] = node
        self.depends_on.setdefault(node.id, set())

    def link(self, dependent: str, dependency: str) -> None:
        """``dependent`` depends on ``dependency`` (both must be nodes)."""
        if dependent not in self.nodes or dependency not in self.nodes:
            raise KeyError(f"unknown node in {dependent} -> {dependency}")
        self.depends_on[dependent].add(dependency)

    def dependents(self) -> dict[str, set[str]]:
        """The reverse edges: node id -> the ids that depend on it directly."""
        out: dict[str, set[str]] = {n: set() for n in self.nodes}
        for a, deps in self.depends_on.items():
            for b in deps:
                out[b].add(a)
        return out
