"""Alembic migrations: one branch per owner (core, evidence, points, ticketing)."""
