"""The HTTP door: CDS Hooks, JSON over HTTP, the prescribing page (Starlette on uvicorn)."""
