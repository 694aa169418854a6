"""Territorial: open-source sales territory management."""
