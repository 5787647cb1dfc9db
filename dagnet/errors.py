"""Everything dagnet reports to a person: problems found in files, and the errors that carry them.

A :class:`Problem` is one finding about one place in a file: a stable code, a severity, the JSON
pointer of the place, its line and column in the text where known, and a one-sentence message.
Problems are collected, never raised one by one, so that a person sees every mistake at once.

The exception tree::

    DagnetError                 anything dagnet reports as the user's to fix (exit code 1)
     ├─ GraphFileError          a graph file that cannot be read or is not a valid dagnet graph
     ├─ DataError               a data file or array that does not fit the graph
     ├─ ArgumentError           an argument the library cannot use: an unknown loss or optimizer,
     │                          a count out of range, a parameter array of the wrong shape
     │                          (also a ValueError)
     ├─ TrainingError           a run that cannot go on (for example, a loss that is not finite)
     └─ ExtraMissing            an optional extra (onnx, torch, sklearn, plot) is not installed

Every one carries the message the command line prints, and ``code``, the problem code it
prints beside it (None for a failed run, which is no problem of a file).

    KeyboardInterrupt
     └─ TrainingInterrupted     Ctrl-C during fit(), which stopped between two steps

This module imports nothing else from dagnet.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

__all__ = [
    "CODES",
    "ArgumentError",
    "DagnetError",
    "DataError",
    "ExtraMissing",
    "GraphFileError",
    "Problem",
    "Severity",
    "TrainingError",
    "TrainingInterrupted",
    "ascii_twin",
    "look_alikes",
    "printable",
    "visible",
]

Severity = Literal["error", "warning"]

CODES: dict[str, str] = {
    # reading the file
    "DAG001": "the file cannot be read",
    "DAG002": "the file is not UTF-8 text",
    "DAG003": "the text is not JSON",
    "DAG004": "a key appears twice in one JSON object",
    "DAG005": "format_version is missing, not supported, or newer than this dagnet",
    "DAG006": "the document is too large or nested too deeply to read",
    # the structure of the document
    "DAG010": "a value has the wrong type",
    "DAG011": "an unknown key",
    "DAG012": "a required key is missing",
    "DAG013": "a number is not finite",
    "DAG014": "a unit id has characters that are not allowed",
    "DAG015": "a value is outside its allowed range or choices",
    # the network the document describes
    "DAG020": "an unknown activation",
    "DAG021": "two units share an id",
    "DAG022": "an edge names a unit that does not exist",
    "DAG023": "the same edge appears twice",
    "DAG024": "an edge from a unit to itself",
    "DAG025": "an edge into an input unit",
    "DAG026": "an activation or bias on an input unit",
    "DAG027": "no input unit",
    "DAG028": "no output unit",
    "DAG029": "a cycle",
    "DAG030": "a loss names a unit that is not an output",
    "DAG031": "an output unit is given two losses",
    "DAG032": "a loss needs another activation on its output units",
    "DAG033": "a loss group is malformed: one unit, bad class names, or a name used twice",
    # data
    "DAG040": "the data file cannot be read",
    "DAG041": "a data column is missing",
    "DAG042": "a data column names no input or output unit",
    "DAG043": "a data value is not a finite number",
    "DAG044": "data columns or rows have different lengths",
    "DAG045": "the data has no rows",
    "DAG046": "no data was given",
    "DAG047": "a data column appears twice",
    "DAG048": "a target does not fit its loss: a probability outside [0, 1], or an unknown class",
    # the library's arguments
    "DAG050": "an argument the library cannot use",
    # warnings: the file is valid, but probably not what was meant
    "DAG101": "a unit that no input reaches",
    "DAG102": "a unit that reaches no output",
}
"""Every problem code dagnet reports, with what it means. Codes are stable across versions."""


@dataclass(frozen=True)
class Problem:
    """One finding about one place in a file.

    Attributes
    ----------
    code : str
        Stable identifier of the rule, e.g. ``"DAG022"``; listed in the README.
    message : str
        One sentence saying what was expected and what was found.
    pointer : str or None
        JSON pointer (RFC 6901) of the place, e.g. ``"/edges/3/target"``; ``None`` for the file
        as a whole.
    severity : {"error", "warning"}
    line, column : int or None
        1-based position in the JSON text, filled in by the loader when the text is known.
    """

    code: str
    message: str
    pointer: str | None = None
    severity: Severity = "error"
    line: int | None = None
    column: int | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def at(self, line: int | None, column: int | None) -> Problem:
        """The same problem, placed at a line and column."""
        return replace(self, line=line, column=column)

    def format(self, file: str | None = None) -> str:
        """``FILE:LINE:COL: /json/pointer: message``, leaving out the parts that are unknown."""
        place = [visible(str(file))] if file is not None else []
        if self.line is not None:
            place += [str(self.line), str(self.column or 1)]
        head = ":".join(place)
        parts = [head] if head else []
        if self.pointer is not None:
            parts.append(visible(self.pointer) or "/")
        kind = "warning: " if self.severity == "warning" else ""
        parts.append(f"{kind}{visible(self.message)} [{self.code}]")
        return ": ".join(parts)


def visible(text: str) -> str:
    """``text`` with control characters escaped (``\\n``), so that a message stays on one line
    and cannot drive the terminal, and with look-alike characters in quoted names made visible.

    A quoted name (``'...'``) holding a character that looks like an ASCII one but is not (a
    Cyrillic ``х``, a fullwidth ``ｘ``) is followed by the code point and name of each such
    character. Applying it twice changes nothing more.

    Examples
    --------
    >>> print(visible("unknown key 'a\\nb'"))
    unknown key 'a\\nb'
    >>> print(visible("unknown unit '\\u04451'"))
    unknown unit 'х1' (U+0445 CYRILLIC SMALL LETTER HA, not the ASCII 'x')
    """
    if not text.isprintable():
        text = "".join(c if c.isprintable() or c == " " else ascii(c)[1:-1] for c in text)
    if text.isascii():
        return text
    return _QUOTED.sub(_mark_look_alikes, text)


def printable(text: str) -> str:
    """``text`` with control characters escaped except line breaks: what may go to a terminal
    when the text is several lines (a report, a CSV). Unlike :func:`visible`, it leaves
    quoted text as it is: a report's primes (``σ'(s)``) are no quotes."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c in " \n" else ascii(c)[1:-1] for c in text)


def ascii_twin(word: str) -> str:
    """``word`` with each look-alike character replaced by the ASCII character it imitates.

    >>> ascii_twin("\\u04451")
    'x1'
    """
    if word.isascii():
        return word
    return "".join(_twin(c) or c for c in word)


def look_alikes(word: str) -> list[str]:
    """The characters of ``word`` that imitate an ASCII character, each as
    ``U+0445 CYRILLIC SMALL LETTER HA, not the ASCII 'x'``."""
    found = []
    for c in dict.fromkeys(word):
        twin = _twin(c)
        if twin is not None:
            name = unicodedata.name(c, "")
            found.append(f"U+{ord(c):04X} {name}, not the ASCII '{twin}'".replace("  ", " "))
    return found


_QUOTED = re.compile(r"'([^'\n]{1,200})'(?! \(U\+)")

# Letters of other scripts that look like Latin ones (Unicode's confusables, the common part).
_LOOK_ALIKES = dict(
    zip(
        "аеорсухіјѕԁһԛԝӏАВЕКМНОРСТХУІЈЅԌαοντιρΑΒΕΖΗΙΚΜΝΟΡΤΥΧɡɑ",
        "aeopcyxijsdhqwlABEKMHOPCTXYIJSGaovtipABEZHIKMNOPTYXga",
        strict=True,
    )
)


def _twin(c: str) -> str | None:
    """The ASCII character ``c`` imitates, if it is not ASCII and imitates one."""
    if c.isascii():
        return None
    twin = _LOOK_ALIKES.get(c)
    if twin is None:
        folded = unicodedata.normalize("NFKC", c)  # fullwidth and styled letters, ligatures
        twin = folded if folded.isascii() and folded.isprintable() and folded else None
    return twin


def _mark_look_alikes(match: re.Match[str]) -> str:
    found = look_alikes(match.group(1))
    return f"{match.group(0)} ({'; '.join(found)})" if found else match.group(0)


class DagnetError(Exception):
    """Base of every error that is the user's to fix; the command line exits with 1."""

    code: str | None = None
    """The problem code of :data:`CODES` the command line prints with the message, if any."""


def _known(code: str) -> str:
    if code not in CODES:  # a mistake in dagnet itself, so not an assert: -O must not hide it
        raise ValueError(f"unknown problem code {code!r}")
    return code


class GraphFileError(DagnetError):
    """A graph file that cannot be read, or that breaks the rules of the format.

    Parameters
    ----------
    file : str or None
        The file's path as the user named it, ``None`` for a graph built in memory.
    problems : sequence of Problem
        Every problem found, warnings included.
    """

    def __init__(self, file: str | None, problems: Sequence[Problem]) -> None:
        self.file = file
        errors_found = [p for p in problems if p.is_error]
        self.code = errors_found[0].code if errors_found else None
        self.problems = tuple(problems)
        errors = [p for p in self.problems if p.is_error]
        lines = [p.format(file) for p in errors]
        super().__init__("\n".join(lines) if lines else f"{file}: invalid graph")

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.is_error)


class DataError(DagnetError):
    """Data that does not fit the graph: a missing column, a bad value, ragged rows.

    Parameters
    ----------
    code : str
        The problem code, one of :data:`CODES`.
    message : str
        One sentence naming the file, the column and the row where they are known.
    column : str, optional
        The data column (unit id) at fault, when there is one.
    """

    code: str

    def __init__(self, code: str, message: str, column: str | None = None) -> None:
        super().__init__(visible(message))
        self.code = _known(code)
        self.column = column


class ArgumentError(DagnetError, ValueError):
    """An argument the library cannot use, said in one sentence: an unknown loss, optimizer or
    dtype (with the known ones), a count out of range, a parameter array of the wrong shape.

    Also a ``ValueError``, so that code which catches those for bad arguments still does.
    """

    code = "DAG050"

    def __init__(self, message: str) -> None:
        super().__init__(visible(message))


class TrainingError(DagnetError):
    """A training run that cannot go on, such as one whose loss stopped being finite.

    Parameters
    ----------
    message : str
    epoch : int, optional
        The epoch (from 1) in which the run stopped.
    epochs_done : int, default 0
        How many whole epochs the parameters left in the network had completed.
    """

    def __init__(self, message: str, *, epoch: int | None = None, epochs_done: int = 0) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.epochs_done = epochs_done


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training: the run stopped cleanly between two steps.

    A ``KeyboardInterrupt``, so that code which stops on Ctrl-C still does; the network keeps
    the parameters of the last complete step.

    Parameters
    ----------
    epoch : int
        The epoch (from 1) that was under way.
    steps : int
        The minibatch steps completed in that epoch.
    epoch_loss : list of float
        The mean loss of each completed epoch.
    """

    def __init__(self, epoch: int, steps: int, epoch_loss: list[float]) -> None:
        super().__init__(f"training interrupted in epoch {epoch} after {steps} steps")
        self.epoch = epoch
        self.steps = steps
        self.epoch_loss = epoch_loss

    @property
    def epochs_done(self) -> int:
        return len(self.epoch_loss)


class ExtraMissing(DagnetError):
    """A feature needs an optional extra that is not installed; the message names the extra.

    Parameters
    ----------
    what : str
        The feature, as the message starts: ``"dagnet export"``.
    module : str
        The module that could not be imported.
    extra : str
        The extra that installs it: ``pip install 'dagnet[EXTRA]'``.
    """

    def __init__(self, what: str, module: str, extra: str) -> None:
        super().__init__(
            f"{what} needs {module}, which is not installed; install it with "
            f"pip install 'dagnet[{extra}]'"
        )
        self.module = module
        self.extra = extra
