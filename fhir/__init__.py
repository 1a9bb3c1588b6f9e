"""FHIR R4 to RegimenGuard domain mapping (pure Python: no protobuf, no HTTP)."""
