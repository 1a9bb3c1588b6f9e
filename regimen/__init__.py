"""The regimen checker (pure Python): request model, per-request facts, rules and verdict.

``regimenguard.regimen.engine.RegimenChecker`` is the one entry point: built once from the knowledge base
and site settings, then ``check(request)`` for every regimen.
"""
