"""A graph's objective: which loss each output unit has, alone or in a softmax group.

The file's ``training.losses`` gives losses to particular outputs (one output alone, or several
as a group), each with a weight; every output it leaves out takes ``training.loss`` (squared
error by default), all of them together as one group when that loss is a softmax. A loss whose
error signal relies on its outputs' activation (cross-entropy on sigmoid units, softmax
cross-entropy on identity units holding the logits) is refused on any other, naming the unit.
:func:`loss_problems` says everything wrong with the file's choice; :func:`heads` is the choice
as :class:`~dagnet.functions.losses.Head` objects for the engine.
"""

from __future__ import annotations

from dagnet.errors import ArgumentError, Problem
from dagnet.functions.losses import LOSSES, Head
from dagnet.graph.jsontext import pointer
from dagnet.graph.messages import did_you_mean, listing
from dagnet.graph.model import Graph

__all__ = ["DEFAULT_GROUP", "heads", "loss_problems"]

DEFAULT_GROUP = "class"
"""The name of the softmax group that ``training.loss`` (or ``--loss``) makes of the outputs."""


def heads(graph: Graph, loss: str | None = None) -> tuple[Head, ...]:
    """The heads of ``graph``'s objective; ``loss`` (``--loss``) gives every output that loss
    instead of the file's choice.

    Raises
    ------
    ArgumentError
        When ``loss`` is unknown or does not fit the outputs (the file's own choice was checked
        when it was read).
    """
    if loss is not None and loss not in LOSSES:
        raise ArgumentError(f"unknown loss {loss!r}; known losses are {', '.join(LOSSES)}")
    found, problems = _resolve(graph, loss)
    if problems:
        raise ArgumentError(problems[0].message)
    return found


def loss_problems(graph: Graph) -> list[Problem]:
    """Everything wrong with the losses ``graph``'s training section gives its outputs."""
    return _resolve(graph, None)[1]


def _resolve(graph: Graph, override: str | None) -> tuple[tuple[Head, ...], list[Problem]]:
    # Only the outputs are looked at unless the file names units in training.losses: a graph
    # of a million edges has no time to spare for maps of all its units.
    placed = [(index, unit) for index, unit in enumerate(graph.units) if unit.role == "output"]
    outputs = [unit.id for _, unit in placed]
    slot = {unit_id: index for index, unit_id in reversed(list(enumerate(outputs)))}
    position = {unit.id: index for index, unit in reversed(placed)}
    activation = {unit.id: unit.effective_activation for _, unit in placed}
    training = graph.training
    problems: list[Problem] = []
    found: list[Head] = []
    taken: dict[str, int] = {}
    entries = () if override is not None or training is None else training.losses or ()
    if entries:  # names and ids that may be any unit's
        position = {unit.id: index for index, unit in reversed(list(enumerate(graph.units)))}
    for k, entry in enumerate(entries):
        here = pointer("training", "losses", k)
        slots: list[int] = []
        for m, unit_id in enumerate(entry.outputs):
            if unit_id not in slot:
                what = "not an output unit" if unit_id in position else "not a unit"
                message = (
                    f"'{unit_id}' is {what}{did_you_mean(unit_id, outputs)}; a loss is given "
                    f"to output units, which are {listing(outputs)}"
                )
                problems.append(Problem("DAG030", message, f"{here}/outputs/{m}"))
            elif unit_id in taken:
                message = (
                    f"output unit '{unit_id}' already has a loss, at "
                    f"{pointer('training', 'losses', taken[unit_id])}; give each output one loss"
                )
                problems.append(Problem("DAG031", message, f"{here}/outputs/{m}"))
            else:
                taken[unit_id] = k
                slots.append(slot[unit_id])
        name = entry.name or (entry.outputs[0] if len(entry.outputs) == 1 else f"losses[{k}]")
        head = Head(name, entry.loss, tuple(slots), entry.weight, tuple(entry.classes or ()))
        problems += _fit_problems(head, outputs, activation, position, here, entry.classes)
        found.append(head)
    rest = [index for index, unit_id in enumerate(outputs) if unit_id not in taken]
    if rest:
        loss = override or (training.loss if training else "squared_error")
        name = DEFAULT_GROUP if LOSSES[loss].grouped else loss
        head = Head(name, loss, tuple(rest))
        where = "/training/loss" if override is None and training is not None else None
        problems += _fit_problems(head, outputs, activation, position, where, None)
        found.append(head)
    problems += _name_problems(found, position, entries)
    return tuple(found), problems


def _fit_problems(
    head: Head,
    outputs: list[str],
    activation: dict[str, str | None],
    position: dict[str, int],
    here: str | None,
    classes: tuple[str, ...] | None,
) -> list[Problem]:
    """What keeps ``head``'s loss from working on its outputs."""
    loss = LOSSES[head.loss]
    problems = []
    if loss.activation is not None:
        for r in head.slots:
            unit_id = outputs[r]
            if activation[unit_id] != loss.activation:
                message = (
                    f"output unit '{unit_id}' has activation {activation[unit_id]}, but "
                    f"{head.loss} needs {loss.activation} outputs (its error signal "
                    f"δ = {'ŷ' if loss.activation == 'sigmoid' else 'p'} − y relies on it); "
                    f'give it "activation": "{loss.activation}" or choose another loss'
                )
                problems.append(
                    Problem("DAG032", message, pointer("units", position[unit_id]) + "/activation")
                )
    if loss.grouped and len(head.slots) == 1:
        message = (
            f"{head.loss} makes a softmax group of its outputs, and one output alone always "
            f"has p = 1 ('{outputs[head.slots[0]]}' is the only one); give it two or more, or "
            "use cross_entropy with a sigmoid output"
        )
        problems.append(Problem("DAG033", message, here))
    if classes is not None:
        if not loss.grouped:
            message = f"'classes' names a softmax group's classes, and {head.loss} has none"
            problems.append(Problem("DAG033", message, f"{here}/classes"))
        elif len(classes) != len(head.slots) or len(set(classes)) != len(classes):
            message = (
                f"'classes' needs one distinct name per output ({len(head.slots)}); got "
                f"{len(classes)} names, {len(set(classes))} distinct"
            )
            problems.append(Problem("DAG033", message, f"{here}/classes"))
    return problems


def _name_problems(found: list[Head], position: dict[str, int], entries: tuple) -> list[Problem]:  # type: ignore[type-arg]
    """Names are what reports and label columns go by: unique, and no unit's."""
    problems = []
    seen: set[str] = set()
    for k, head in enumerate(found):
        given = k < len(entries) and entries[k].name is not None
        here = pointer("training", "losses", k) + "/name" if given else None
        if head.name in seen or (given and head.name in position):
            what = "another loss" if head.name in seen else "a unit"
            message = f"the loss name '{head.name}' is also {what}'s; give each loss its own name"
            problems.append(Problem("DAG033", message, here))
        seen.add(head.name)
    return problems
