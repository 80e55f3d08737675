"""Validation of model-file data (placeholder: passes data through; hardened separately)."""

from __future__ import annotations

from pathlib import Path


def validate_model_data(data: dict, path: Path) -> dict:
    return data
