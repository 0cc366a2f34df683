"""Reusable constructs: each owns its resources and exposes them as attributes.

Stacks in ``stacks/`` compose these, once per region, with that region's provider.
"""
