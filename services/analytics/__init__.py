"""The analytics service: a read model of the pipeline events and the figures built on it."""
