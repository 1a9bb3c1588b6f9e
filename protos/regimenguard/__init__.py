"""Generated protobuf and gRPC code for the RegimenGuard API (built by `make proto`)."""
