"""The sector map: members' critical business processes, the systems, ICT third-party providers and shared
infrastructure they depend on, the analysis of that dependency graph, and the sector risk register."""
