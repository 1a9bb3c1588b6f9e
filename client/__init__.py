"""The `regimen-guard` command: a gRPC client of the RegimenGuard API, with a local mode."""
