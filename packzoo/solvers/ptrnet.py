"""Pointer-network solvers (issue: pointer network)."""
