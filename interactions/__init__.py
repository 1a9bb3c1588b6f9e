"""Drug knowledge: ingredients, names, classes and the interaction graph (pure Python).

Clinical facts live in versioned data files under ``interactions/data``; this package loads and
validates them once, builds a networkx graph, and derives frozen lookup indexes from it.
"""
