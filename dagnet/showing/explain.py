"""The derivation written out for one network: its equations, and one step with numbers.

Everything is read off the compiled :class:`~dagnet.engine.plan.Plan`, the same arrays the kernels
run over: units in execution order for the forward pass, the same order reversed for the error
signals, CSR in-edges for s_j and CSR out-edges for δ_j. Each equation is rendered by one
function that asks a *valuation* for the text of every symbol, so the symbolic line and the line
with numbers cannot disagree in shape: :class:`_Symbols` answers ``δ_k``, :class:`_Numbers`
answers ``0.0123``.

The numbers of :func:`step` are the reference engine's (:mod:`dagnet.showing.reference`, the
derivation as plain loops); the tests hold them to the compiled engine. Activations and the loss
are written as their tables (:mod:`dagnet.functions`) write them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from dagnet.engine.network import Network
from dagnet.engine.plan import Plan
from dagnet.functions.activations import ACTIVATION_NAMES, ACTIVATIONS
from dagnet.functions.losses import Head, Loss, head_probability
from dagnet.showing import reference

__all__ = [
    "ASCII",
    "UNICODE",
    "Notation",
    "Step",
    "equations",
    "header",
    "step",
    "step_lines",
    "unit_lines",
]

ACTIVATION_BY_CODE = ACTIVATION_NAMES
"""Activation names by their code in a Plan."""


@dataclass(frozen=True)
class Notation:
    """How symbols are written: the derivation's Unicode, or plain ASCII for any terminal."""

    ascii: bool = False

    @property
    def times(self) -> str:
        return " * " if self.ascii else " · "

    @property
    def minus(self) -> str:
        return " - " if self.ascii else " − "

    @property
    def negative(self) -> str:
        return "-" if self.ascii else "−"

    @property
    def eta(self) -> str:
        return "eta" if self.ascii else "η"

    def sub(self, base: str, unit: str) -> str:
        """``base`` with the unit id as subscript: s_k, s_{h1} (ASCII: s_k, s_h1)."""
        if self.ascii or len(unit) == 1:
            return f"{base}_{unit}"
        return f"{base}_{{{unit}}}"

    def delta(self, unit: str) -> str:
        return self.sub("d" if self.ascii else "δ", unit)

    def y_hat(self, unit: str) -> str:
        return self.sub("yhat" if self.ascii else "ŷ", unit)

    def weight(self, source: str, target: str, change: bool = False) -> str:
        if self.ascii:
            return f"{'D' if change else ''}w[{source}->{target}]"
        return f"{'Δ' if change else ''}w_{{{source}→{target}}}"

    def bias(self, unit: str, change: bool = False) -> str:
        return self.sub(("D" if self.ascii else "Δ") + "b" if change else "b", unit)

    def function(self, activation: str) -> str:
        entry = ACTIVATIONS[activation]
        return (entry.ascii_symbol if self.ascii else entry.symbol) or activation

    def derivative(self, activation: str) -> str:
        """The derivative's definition, for the legend under the error signals."""
        entry = ACTIVATIONS[activation]
        return f"{self.function(activation)}'(s) = {entry.ascii_rule if self.ascii else entry.rule}"


UNICODE = Notation()
ASCII = Notation(ascii=True)


@dataclass(frozen=True)
class Step:
    """One example through the derivation: every s_j, z_j, δ_j, and the step it asks for.

    Values are keyed by unit id and by edge ``(source, target)``; the changes are those of one
    gradient step on this example alone (N = 1): Δw_{i→j} = −η δ_j z_i and Δb_j = −η δ_j.
    ``weight``, ``bias`` and ``y`` are the parameters and targets the step started from.
    """

    weight: dict[tuple[str, str], float]
    bias: dict[str, float]
    y: dict[str, float]
    s: dict[str, float]
    z: dict[str, float]
    delta: dict[str, float]
    p: dict[str, float]
    """Each output's probability (its ŷ for a loss that has none)."""
    weight_change: dict[tuple[str, str], float]
    bias_change: dict[str, float]
    loss: float
    learning_rate: float


def header(net: Network, notation: Notation = UNICODE) -> list[str]:
    """What the network is, and what its symbols mean.

    Examples
    --------
    >>> import dagnet
    >>> print(header(dagnet.Network(dagnet.load_graph("graphs/xor.json")), ASCII)[0])
    xor: 5 units (2 input, 2 hidden, 1 output), 9 edges; E = 1/2 sum_o (yhat_o - y_o)^2 per example.
    """
    roles = [unit.role for unit in net.graph.units]
    counts = ", ".join(f"{roles.count(role)} {role}" for role in ("input", "hidden", "output"))
    name = net.graph.name or "network"
    edges = f"{len(net.edges)} edge{'' if len(net.edges) == 1 else 's'}"
    loss = _objective_text(net.heads, notation)
    delta, eta = ("d_j = dE/ds_j", "eta") if notation.ascii else ("δ_j = ∂E/∂s_j", "η")
    return [
        f"{name}: {len(roles)} units ({counts}), {edges}; {loss} per example.",
        f"s_j is the net input of unit j, z_j = f_j(s_j) its output, {delta} its error signal;",
        f"{eta} is the learning rate, N the minibatch size.",
    ]


def _objective_text(heads: tuple[Head, ...], notation: Notation) -> str:
    """E as the loss table writes it; with several heads, the sum of their weighted losses."""

    def formula(head: Head) -> str:
        entry = head.function
        return entry.ascii_formula if notation.ascii else entry.formula

    if len(heads) == 1 and heads[0].weight == 1.0:
        return formula(heads[0])
    parts = [
        f"{_plain(head.weight) + notation.times if head.weight != 1.0 else ''}E_{head.name}"
        for head in heads
    ]
    each = "; ".join(f"{head.name}: {formula(head).replace('E =', 'E_' + head.name + ' =')}"
                     for head in heads)  # fmt: skip
    return f"E = {' + '.join(parts)} ({each})"


def equations(net: Network, notation: Notation = UNICODE) -> list[str]:
    """The forward pass, error signals and updates of ``net`` in the derivation's notation.

    Examples
    --------
    >>> import dagnet
    >>> net = dagnet.Network(dagnet.load_graph("graphs/multi_output.json"))
    >>> print(*[line for line in equations(net) if line.startswith("  δ_")], sep="\\n")
      δ_o = ŷ_o − y_o
      δ_k = σ'(s_k) · δ_o · w_{k→o}
      δ_j = σ'(s_j) · δ_o · w_{j→o}
      δ_i = σ'(s_i) · (δ_j · w_{i→j} + δ_k · w_{i→k})
    """
    plan, symbols = net.plan, _Symbols(net.plan, notation, net.heads)
    lines = ["Forward pass, in topological order:"]
    lines += [f"  {_forward_line(plan, j, symbols)}" for j in range(plan.n_inputs, plan.n_units)]
    lines += ["", "Error signals, in reverse topological order:"]
    lines += [
        f"  {notation.delta(plan.unit_ids[j])} = {_delta_rhs(plan, j, symbols)}"
        for j in _non_inputs_reversed(plan)
    ]
    lines += _legend(plan, notation, net.heads)
    lines += ["", "Updates, for a minibatch of N examples:"]
    scale = f"{notation.negative}({notation.eta}/N) {'sum_n' if notation.ascii else 'Σ_n'} "
    for source, target in net.edges:
        change = notation.weight(source, target, change=True)
        product = f"{notation.delta(target)} {notation.sub('z', source)}"
        lines.append(f"  {change} = {scale}{product}")
    for unit in net.graph.units:
        if unit.role != "input":
            change = notation.bias(unit.id, change=True)
            lines.append(f"  {change} = {scale}{notation.delta(unit.id)}")
    return lines


def step(net: Network, inputs: ArrayLike, targets: ArrayLike, learning_rate: float) -> Step:
    """Carry one example through the equations of :func:`equations`, in the reference engine.

    Parameters
    ----------
    net : Network
    inputs : array_like, shape (input units,)
        One example, one value per input unit in file order.
    targets : array_like, shape (output units,)
    learning_rate : float
        η of the step.

    Examples
    --------
    >>> import dagnet
    >>> graph = dagnet.Graph.model_validate({"format_version": 1,
    ...     "units": [{"id": "x", "role": "input"}, {"id": "y", "role": "output"}],
    ...     "edges": [{"source": "x", "target": "y", "weight": 2.0}]})
    >>> result = step(dagnet.Network(graph), [1.0], [0.5], learning_rate=0.5)
    >>> result.delta["y"], result.weight_change["x", "y"]
    (1.5, -0.75)
    """
    ref = reference.ReferenceNetwork.from_graph(net.to_graph(), heads=net.heads)
    x = np.asarray(inputs, dtype=np.float64).reshape(len(ref.inputs)).tolist()
    y = np.asarray(targets, dtype=np.float64).reshape(len(ref.outputs)).tolist()
    s, z = reference.forward(ref, x)
    delta = reference.backward(ref, s, z, y)
    s_out, y_hat = (np.array([[v[o]] for o in ref.outputs]) for v in (s, z))
    p = head_probability(ref.heads, s_out, y_hat, np)[:, 0].tolist()
    return Step(
        weight=dict(ref.weight),
        bias=dict(ref.bias),
        y=dict(zip(ref.outputs, y, strict=True)),
        s=s,
        z=z,
        delta=delta,
        p=dict(zip(ref.outputs, p, strict=True)),
        weight_change={(i, j): -learning_rate * delta[j] * z[i] for i, j in ref.weight},
        bias_change={j: -learning_rate * delta[j] for j in ref.bias},
        loss=reference.loss(ref, s, z, y),
        learning_rate=learning_rate,
    )


def step_lines(net: Network, result: Step, notation: Notation = UNICODE) -> list[str]:
    """The equations of :func:`equations` again, each followed by its numbers from ``result``.

    Groups (forward pass with the loss, error signals, updates) are separated by blank lines.

    Examples
    --------
    >>> import dagnet
    >>> graph = dagnet.Graph.model_validate({"format_version": 1,
    ...     "units": [{"id": "x", "role": "input"}, {"id": "y", "role": "output"}],
    ...     "edges": [{"source": "x", "target": "y", "weight": 2.0}]})
    >>> net = dagnet.Network(graph)
    >>> step_lines(net, step(net, [1.0], [0.5], learning_rate=0.5))[-2]
    '  Δw_{x→y} = −η · δ_y · z_x = −0.5 · 1.5 · 1 = -0.75'
    """
    plan = net.plan
    symbols = _Symbols(plan, notation, net.heads)
    numbers = _Numbers(plan, notation, net.heads, result)
    position = {unit: p for p, unit in enumerate(plan.unit_ids)}
    ids = plan.unit_ids
    lines = [
        f"  {notation.sub('z', ids[j])} = {_plain(result.z[ids[j]])}" for j in range(plan.n_inputs)
    ]
    for j in range(plan.n_inputs, plan.n_units):
        s_parts = [_s_rhs(plan, j, symbols), _s_rhs(plan, j, numbers), _plain(result.s[ids[j]])]
        lines.append("  " + _chain(notation.sub("s", ids[j]), *s_parts))
        z_parts = [*_z_parts(plan, j, symbols), numbers.f(j), _plain(result.z[ids[j]])]
        lines.append("  " + _chain(*z_parts))
    sums = [_loss_sum(net.heads, plan, v) for v in (symbols, numbers)]
    lines.append("  " + _chain("E", *sums, _plain(result.loss)))
    lines.append("")
    for j in _non_inputs_reversed(plan):
        rhs = (_delta_rhs(plan, j, symbols), _delta_rhs(plan, j, numbers))
        lines.append("  " + _chain(notation.delta(ids[j]), *rhs, _plain(result.delta[ids[j]])))
    lines.append("")
    eta = (
        f"{notation.negative}{notation.eta}",
        f"{notation.negative}{_plain(result.learning_rate)}",
    )
    times = notation.times
    for source, target in net.edges:
        i, j = position[source], position[target]
        products = [
            f"{scale}{times}{v.delta(j)}{times}{v.z(i)}"
            for scale, v in zip(eta, (symbols, numbers), strict=True)
        ]
        change = notation.weight(source, target, change=True)
        lines.append("  " + _chain(change, *products, _plain(result.weight_change[source, target])))
    for unit in net.graph.units:
        if unit.role == "input":
            continue
        j = position[unit.id]
        products = [
            f"{scale}{times}{v.delta(j)}" for scale, v in zip(eta, (symbols, numbers), strict=True)
        ]
        change = notation.bias(unit.id, change=True)
        lines.append("  " + _chain(change, *products, _plain(result.bias_change[unit.id])))
    return lines


def unit_lines(
    net: Network, unit: str, notation: Notation = UNICODE, result: Step | None = None
) -> list[str]:
    """One unit's equations: its forward sum, its δ with each out-edge, and its updates.

    With ``result`` (from :func:`step`) each equation is followed by its numbers, as in
    :func:`step_lines`. ``unit`` must be a unit id of ``net``.

    Examples
    --------
    >>> import dagnet
    >>> net = dagnet.Network(dagnet.load_graph("graphs/multi_output.json"))
    >>> print(*unit_lines(net, "i")[1:4], sep="\\n")
    Forward pass:
      s_i = b_i + w_{x→i} · z_x,  z_i = σ(s_i)
    Error signal, from its 2 out-edges:
    """
    plan = net.plan
    j = plan.unit_ids.index(unit)
    symbols = _Symbols(plan, notation, net.heads)
    numbers = None if result is None else _Numbers(plan, notation, net.heads, result)
    ids = plan.unit_ids
    fan_in = int(plan.in_start[j + 1] - plan.in_start[j])
    outs = range(plan.out_start[j], plan.out_start[j + 1])
    role = "input" if j < plan.n_inputs else ("output" if plan.output_slot[j] >= 0 else "hidden")
    activation = "" if j < plan.n_inputs else f", {ACTIVATION_BY_CODE[plan.activation[j]]}"
    lines = [
        f"Unit {unit} ({role}{activation}): {fan_in} in-edge{'s' * (fan_in != 1)}, "
        f"{len(outs)} out-edge{'s' * (len(outs) != 1)}."
    ]

    def value(text: str, amount: float) -> str:
        return text if result is None else f"{text} = {_plain(amount)}"

    lines.append("Forward pass:")
    if j < plan.n_inputs:
        z = notation.sub("z", unit)
        lines.append(f"  {value(z, result.z[unit] if result else 0.0)}  (from the data)")
    elif numbers is None or result is None:
        lines.append(f"  {_forward_line(plan, j, symbols)}")
    else:
        s_parts = [_s_rhs(plan, j, symbols), _s_rhs(plan, j, numbers), _plain(result.s[unit])]
        lines.append("  " + _chain(notation.sub("s", unit), *s_parts))
        z_parts = [*_z_parts(plan, j, symbols), numbers.f(j), _plain(result.z[unit])]
        lines.append("  " + _chain(*z_parts))
    if j >= plan.n_inputs:
        lines.append(
            f"Error signal, from its {count_of(len(outs), 'out-edge')}:"
            if outs
            else "Error signal:"
        )
        parts = [_delta_rhs(plan, j, symbols)]
        if numbers is not None and result is not None:
            parts += [_delta_rhs(plan, j, numbers), _plain(result.delta[unit])]
        lines.append("  " + _chain(notation.delta(unit), *parts))
        if plan.output_slot[j] >= 0 and outs:
            error = _error(symbols, j)
            if numbers is not None and result is not None:
                error = _chain(error, _error(numbers, j))
            lines.append(f"  as an output: {error}")
    if j < plan.n_inputs and outs:
        lines.append("Its out-edges carry the error signals of their targets:")
    for q in outs:
        k, p = plan.out_target[q], plan.out_edge[q]
        term = f"{symbols.delta(k)}{notation.times}{symbols.w(p)}"
        if numbers is not None:
            term = _chain(term, f"{numbers.delta(k)}{notation.times}{numbers.w(p)}")
        lines.append(f"  via {ids[j]}{'->' if notation.ascii else '→'}{ids[k]}: {term}")
    if j >= plan.n_inputs and ACTIVATION_BY_CODE[plan.activation[j]] != "identity":
        lines.append(f"  where {notation.derivative(ACTIVATION_BY_CODE[plan.activation[j]])}")
    lines.append("Updates:" if result is None else "Updates, for this example (N = 1):")
    scale = f"{notation.negative}({notation.eta}/N) {'sum_n' if notation.ascii else 'Σ_n'} "
    eta = (
        f"{notation.negative}{notation.eta}",
        "" if result is None else f"{notation.negative}{_plain(result.learning_rate)}",
    )
    times = notation.times
    changes: list[tuple[str, list[str], float]] = []
    for p in range(plan.in_start[j], plan.in_start[j + 1]):
        i = plan.in_source[p]
        change = notation.weight(ids[i], unit, change=True)
        if result is None:
            changes.append(
                (change, [f"{scale}{notation.delta(unit)} {notation.sub('z', ids[i])}"], 0)
            )
        else:
            assert numbers is not None
            products = [f"{eta[0]}{times}{symbols.delta(j)}{times}{symbols.z(i)}",
                        f"{eta[1]}{times}{numbers.delta(j)}{times}{numbers.z(i)}"]  # fmt: skip
            changes.append((change, products, result.weight_change[ids[i], unit]))
    if j >= plan.n_inputs:
        change = notation.bias(unit, change=True)
        if result is None:
            changes.append((change, [f"{scale}{notation.delta(unit)}"], 0))
        else:
            assert numbers is not None
            products = [f"{eta[0]}{times}{symbols.delta(j)}", f"{eta[1]}{times}{numbers.delta(j)}"]
            changes.append((change, products, result.bias_change[unit]))
    if not changes:
        lines.append("  none: an input unit has no bias and no in-edges")
    for change, products, amount in changes:
        tail = [] if result is None else [_plain(amount)]
        lines.append("  " + _chain(change, *products, *tail))
    return lines


def count_of(n: int, noun: str) -> str:
    """``3 edges``, ``1 edge``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


# One renderer per kind of equation; ``v`` is a valuation, symbolic or numeric.


def _forward_line(plan: Plan, j: int, v: _Symbols) -> str:
    return f"{v.s(j)} = {_s_rhs(plan, j, v)},  {_chain(*_z_parts(plan, j, v))}"


def _s_rhs(plan: Plan, j: int, v: _Symbols) -> str:
    terms = [v.b(j)]
    terms += [
        f"{v.w(p)}{v.notation.times}{v.z(plan.in_source[p])}"
        for p in range(plan.in_start[j], plan.in_start[j + 1])
    ]
    return " + ".join(terms)


def _z_parts(plan: Plan, j: int, v: _Symbols) -> list[str]:
    """``z_j = σ(s_j)``, written ``ŷ_o = z_o = ...`` for an output unit."""
    parts = [v.notation.y_hat(plan.unit_ids[j])] if plan.output_slot[j] >= 0 else []
    return [*parts, v.notation.sub("z", plan.unit_ids[j]), v.f(j)]


def _error(v: _Symbols, j: int) -> str:
    """The error an output's loss starts its δ from: ``ŷ_o − y_o``, ``p_o − y_o``, weighted."""
    head = v.head(j)
    text = head.function.error_text(v.y_hat(j), v.p(j), v.y(j), v.notation.ascii)
    if head.weight == 1.0:
        return text
    return f"{_plain(head.weight)}{v.notation.times}({text})"


def _delta_rhs(plan: Plan, j: int, v: _Symbols) -> str:
    """f_j'(s_j) · (ŷ_j − y_j + Σ_{k∈outs(j)} δ_k · w_{j→k}), f' left out where it is 1; for a
    cross-entropy output, whose σ' has cancelled, p_j − y_j + f_j'(s_j) · Σ ..."""
    notation = v.notation
    terms = []
    output = plan.output_slot[j] >= 0
    scaled = output and v.head(j).function.scaled
    if scaled:
        terms.append(_error(v, j))
    for q in range(plan.out_start[j], plan.out_start[j + 1]):
        terms.append(f"{v.delta(plan.out_target[q])}{notation.times}{v.w(plan.out_edge[q])}")
    direct = [_error(v, j)] if output and not scaled else []
    if not terms:
        return direct[0] if direct else "0"  # a unit that reaches no output changes no loss
    inner = " + ".join(terms)
    if ACTIVATION_BY_CODE[plan.activation[j]] != "identity":
        grouped = len(terms) > 1 or scaled
        inner = f"{v.f_prime(j)}{notation.times}{f'({inner})' if grouped else inner}"
    return " + ".join([*direct, inner])


def _loss_sum(heads: tuple[Head, ...], plan: Plan, v: _Symbols) -> str:
    """E_n written out over the outputs: each head's terms, with its prefix and weight."""
    parts = []
    for head in heads:
        loss, ascii = head.function, v.notation.ascii
        rows = [int(plan.output_positions[r]) for r in head.slots]
        terms = " + ".join(loss.term_text(v.y_hat(j), v.p(j), v.y(j), ascii) for j in rows)
        text = loss.sum_prefix[ascii] + terms
        if head.weight != 1.0:
            text = f"{_plain(head.weight)}{v.notation.times}({text})"
        parts.append(text)
    return " + ".join(parts)


def _legend(plan: Plan, notation: Notation, heads: tuple[Head, ...] = ()) -> list[str]:
    used = [ACTIVATION_BY_CODE[code] for code in plan.activation[plan.n_inputs :]]
    names = [name for name in ACTIVATIONS if name in used and name != "identity"]
    lines = [f"  where {notation.derivative(name)}" for name in names]
    linear = [
        plan.unit_ids[j]
        for j in range(plan.n_inputs, plan.n_units)
        if ACTIVATION_BY_CODE[plan.activation[j]] == "identity"
    ]
    if linear:
        units = f"unit{'s' if len(linear) > 1 else ''} {', '.join(linear)}"
        lines.append(f"  and f'(s) = 1 for the linear (identity) {units}")
    for head in heads:
        if head.function.note:
            note = head.function.note
            if notation.ascii:
                note = note.replace("Σ_r", "sum_r").replace("ŷ", "yhat")
            lines.append(f"  and {note} ({head.name})")
    return lines


def _non_inputs_reversed(plan: Plan) -> range:
    return range(plan.n_units - 1, plan.n_inputs - 1, -1)


def _chain(*parts: str) -> str:
    """``a = b = c``, a part equal to the one before it written once."""
    kept = [part for index, part in enumerate(parts) if index == 0 or part != parts[index - 1]]
    return " = ".join(kept)


def _plain(value: float) -> str:
    return f"{value + 0.0:.6g}"  # + 0.0 turns -0.0 into 0.0


class _Symbols:
    """Answers each symbol with its name: ``s_j``, ``w_{i→j}``, ``σ'(s_j)``."""

    def __init__(self, plan: Plan, notation: Notation, heads: tuple[Head, ...]) -> None:
        self.plan, self.notation = plan, notation
        self._heads = {r: head for head in heads for r in head.slots}

    def head(self, j: int) -> Head:
        """The head whose loss output unit j (a Plan position) has."""
        return self._heads[int(self.plan.output_slot[j])]

    def loss(self, j: int) -> Loss:
        return self.head(j).function

    def p(self, j: int) -> str:
        return self.notation.sub("p", self._id(j))

    def _id(self, j: int) -> str:
        return self.plan.unit_ids[j]

    def _activation(self, j: int) -> str:
        return ACTIVATION_BY_CODE[int(self.plan.activation[j])]

    def s(self, j: int) -> str:
        return self.notation.sub("s", self._id(j))

    def z(self, j: int) -> str:
        return self.notation.sub("z", self._id(j))

    def b(self, j: int) -> str:
        return self.notation.bias(self._id(j))

    def w(self, p: int) -> str:
        plan = self.plan
        return self.notation.weight(self._id(plan.in_source[p]), self._id(plan.edge_target[p]))

    def delta(self, j: int) -> str:
        return self.notation.delta(self._id(j))

    def y_hat(self, j: int) -> str:
        return self.notation.y_hat(self._id(j))

    def y(self, j: int) -> str:
        return self.notation.sub("y", self._id(j))

    def f(self, j: int) -> str:
        if self._activation(j) == "identity":
            return self.s(j)
        return f"{self.notation.function(self._activation(j))}({self.s(j)})"

    def f_prime(self, j: int) -> str:
        return f"{self.notation.function(self._activation(j))}'({self.s(j)})"


class _Numbers(_Symbols):
    """Answers each symbol with its value in one :class:`Step`, negatives in parentheses."""

    def __init__(
        self, plan: Plan, notation: Notation, heads: tuple[Head, ...], result: Step
    ) -> None:
        super().__init__(plan, notation, heads)
        self.result = result

    def p(self, j: int) -> str:
        return self._number(self.result.p[self._id(j)])

    def _number(self, value: float) -> str:
        text = _plain(value)
        return f"({text})" if text.startswith("-") else text

    def s(self, j: int) -> str:
        return self._number(self.result.s[self._id(j)])

    def z(self, j: int) -> str:
        return self._number(self.result.z[self._id(j)])

    def delta(self, j: int) -> str:
        return self._number(self.result.delta[self._id(j)])

    def b(self, j: int) -> str:
        return self._number(self.result.bias[self._id(j)])

    def w(self, p: int) -> str:
        plan = self.plan
        edge = (self._id(plan.in_source[p]), self._id(plan.edge_target[p]))
        return self._number(self.result.weight[edge])

    def y_hat(self, j: int) -> str:
        return self.z(j)

    def f(self, j: int) -> str:
        s = _plain(self.result.s[self._id(j)])
        if self._activation(j) == "identity":
            return s
        return f"{self.notation.function(self._activation(j))}({s})"

    def y(self, j: int) -> str:
        return self._number(self.result.y[self._id(j)])

    def f_prime(self, j: int) -> str:
        unit = self._id(j)
        slope = ACTIVATIONS[self._activation(j)].derivative
        return self._number(slope(self.result.s[unit], self.result.z[unit]))
