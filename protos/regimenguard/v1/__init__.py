"""regimenguard.v1: generated from regimen_checker.proto by `make proto`."""
