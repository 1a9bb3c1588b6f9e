"""Dose arithmetic and dose knowledge (pure Python): limits, ranges, starting doses, MME.

Each clinical formula lives in its own module with its citation; the numbers it uses are
versioned data under ``dosing/data``.
"""
