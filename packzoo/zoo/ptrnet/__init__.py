"""Pointer network for the packing order, trained with REINFORCE."""
