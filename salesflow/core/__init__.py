"""Shared plumbing for every salesflow process: settings, database, events, gRPC, logs."""
