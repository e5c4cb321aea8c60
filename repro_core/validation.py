"""Checks for every untrusted value the lab uses: widgets, command-line flags, uploaded reports, environment variables.
Bools posing as numbers, NaN and infinity are refused; `echo=False` keeps a hostile report's value out of the message.
Every refusal is a `Refusal`: what the click path and the command line show as a message; any other error is a bug."""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Collection, Iterator


class Refusal(ValueError):
    """An input the lab will not take (a setting, an uploaded report, a model spec, an environment variable, a command-line
    value, a click over the budget), with one line fit to show whoever gave it. A ValueError, so callers that caught those
    keep working; catch Refusal where the message is shown, so that a bug is never passed off as a rejected input."""


def short_repr(value: object) -> str:
    """A bounded repr for error messages (hostile input may be huge, or have a hostile __repr__)."""
    try:
        text = repr(value)
    except Exception:  # e.g. an int too long to print: the refusal must still have a message
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."


def _refuse(message: str, value: object, echo: bool) -> Refusal:
    return Refusal(f"{message}, got {short_repr(value)}" if echo else message)


def whole_number(name: str, value: object, low: int, high: int, echo: bool = True) -> int:
    """An int (or an integral float, as widgets give) in [low, high]."""
    integral = isinstance(value, int) or (isinstance(value, float) and value.is_integer())  # is_integer() is False for NaN and inf
    if isinstance(value, bool) or not integral:
        raise _refuse(f"{name} must be a whole number", value, echo)
    number = int(value)
    if not low <= number <= high:
        raise _refuse(f"{name} must be between {low} and {high}", number, echo)
    return number


def real_number(name: str, value: object, low: float, high: float, low_open: bool = False, echo: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _refuse(f"{name} must be a number", value, echo)
    try:
        number = float(value)
    except OverflowError:
        raise _refuse(f"{name} is far too large", value, echo) from None
    too_low = number <= low if low_open else number < low
    if not math.isfinite(number) or too_low or number > high:
        raise _refuse(f"{name} must be in {'(' if low_open else '['}{low:g}, {high:g}]", value, echo)
    return number


def choice(name: str, value: object, allowed: Collection[str], echo: bool = True) -> str:
    """One of a fixed list of names (the list is what goes into a cell, never the visitor's string)."""
    if not isinstance(value, str) or value not in allowed:
        raise _refuse(f"{name} must be one of {', '.join(allowed)}", value, echo)
    return value


def flag(name: str, value: object, echo: bool = True) -> bool:
    if not isinstance(value, bool):
        raise _refuse(f"{name} must be true or false", value, echo)
    return value


def matching(name: str, value: object, pattern: re.Pattern[str], description: str) -> str:
    """A text of a known shape (a version, a kernelspec name); the message names the shape, never the value."""
    if not isinstance(value, str) or not pattern.match(value):
        raise Refusal(f"{name} must be {description}")
    return value


def number_text(name: str, text: str, low: float, high: float) -> float:
    """A number written as text (an environment variable), in [low, high]."""
    try:
        value = float(text)
    except ValueError:
        raise _refuse(f"{name} must be a number", text, echo=True) from None
    if not math.isfinite(value) or not low <= value <= high:
        raise _refuse(f"{name} must be between {low:g} and {high:g}", text, echo=True)
    return value


@contextlib.contextmanager
def named_file(path: object) -> Iterator[None]:
    """Reading or writing a file the user named (a command-line path): an OSError (missing, a folder, not allowed) is a
    Refusal that names the file."""
    try:
        yield
    except OSError as exc:
        raise Refusal(f"{path}: {exc.strerror or type(exc).__name__}") from None
