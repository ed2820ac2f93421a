"""OR-Tools CP-SAT exact solver (issue: exact solver)."""
