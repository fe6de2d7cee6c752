"""gRPC clients of the internal services (adapter, optimizer, savings), with deadlines."""
