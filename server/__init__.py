"""The gRPC adapter: proto <-> domain conversion, errors, health, reflection, start-up, shutdown."""
