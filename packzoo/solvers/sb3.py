"""Stable-Baselines3 agents as solvers (issue: SB3 agents)."""
