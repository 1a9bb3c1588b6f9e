"""Population review: a retrospective check of every active regimen of a population.

Input tables (``medications`` + ``patients``, Parquet or CSV) or a FHIR Bulk Data export
(NDJSON, mapped by ``regimenguard.fhir.regimen``) are grouped by patient, each
patient's regimen is checked exactly as ``CheckRegimenBatch`` checks it, and the answers are
written as Parquet tables (``findings``, ``verdicts``, ``errors``) plus ``report.html``.
Two engines run the same per-patient check: ``regimenguard.review.local`` (a process pool on one machine,
resumable) and ``regimenguard.review.spark`` (PySpark, for a cluster).
"""
