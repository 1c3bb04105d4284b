"""``--set key=value`` options of the training benchmarks, typed for ``TrainConfig``."""

from __future__ import annotations


def value(text: str) -> object:
    """``3`` -> int, ``0.5`` -> float, ``none``/``true``/``false`` -> None/bool, else the text."""
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"none": None, "true": True, "false": False}.get(text.lower(), text)


def set_options(pairs: list[str]) -> dict[str, object]:
    """``["epochs=3", "budget=0"]`` -> ``{"epochs": 3, "budget": 0}``."""
    return {k: value(v) for k, v in (kv.split("=", 1) for kv in pairs)}
