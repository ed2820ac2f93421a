"""Shipped Stable-Baselines3 agents in the zoo."""
