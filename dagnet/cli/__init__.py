"""The ``dagnet`` command line: thin commands that call the library and print.

Data, ``--json`` documents and the findings of ``validate`` go to stdout; progress and messages,
including the problems that stop ``train`` or ``predict``, go to stderr. Exit codes: 0 success,
1 bad input or a failed run (a one-paragraph message, never a traceback), 2 a usage error,
130 interrupted. Each command lives in its own module; this one gathers them into the group.
"""

from __future__ import annotations

import warnings
from typing import Any, TextIO

import click

from dagnet import __version__, environment
from dagnet.cli import (
    bench,
    draw,
    evaluate,
    explain,
    export,
    gradcheck,
    import_,
    info,
    predict,
    schema,
    train,
    validate,
)
from dagnet.cli.common import EXIT_INTERRUPTED, MAX_PRINTED, count, echo
from dagnet.errors import DagnetError, GraphFileError, visible


class _Commands(click.Group):
    """Turns the errors that are the user's to fix into a message and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return self._invoke(ctx)
        except click.ClickException as exc:
            # Messages quote names from the user's files: never a control character raw.
            lines = exc.message.split("\n")
            setattr(exc, "message", "\n".join(visible(line) for line in lines))  # noqa: B010
            raise

    def _invoke(self, ctx: click.Context) -> Any:
        try:
            with warnings.catch_warnings():
                warnings.showwarning = _one_line_warning
                return super().invoke(ctx)
        except GraphFileError as exc:
            if len(exc.errors) == 1:
                raise click.ClickException(exc.errors[0].format(exc.file)) from None
            for problem in exc.errors[:MAX_PRINTED]:
                echo(problem.format(exc.file), err=True)
            what = visible(exc.file) if exc.file else "the graph"
            errors = count(len(exc.errors), "error")
            if len(exc.errors) > MAX_PRINTED:
                errors += f", the first {MAX_PRINTED}"
            raise click.ClickException(
                f"{what} is not a valid dagnet graph ({errors} above)"
            ) from None
        except DagnetError as exc:
            coded = f"{exc} [{exc.code}]" if exc.code else str(exc)
            raise click.ClickException(coded) from None
        except KeyboardInterrupt:
            echo("interrupted; nothing was written", err=True)
            ctx.exit(EXIT_INTERRUPTED)


def _one_line_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """A warning (numpy's overflow, say) as one line of words: never dagnet's or numpy's
    source file and line, which mean nothing to the person running the command."""
    echo(f"warning: {visible(str(message))}", err=True)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dagnet")
def main() -> None:
    """Train neural networks of any acyclic shape, described unit by unit in a JSON file.

    \b
    Start here:
      dagnet validate graphs/*.json          check graph files, every problem at once
      dagnet train graphs/multi_output.json  train; writes graphs/multi_output.trained.json
      dagnet predict graphs/multi_output.trained.json --data graphs/multi_output.csv
      dagnet evaluate graphs/multi_output.trained.json  loss (and accuracy) on data
      dagnet explain graphs/multi_output.json  the backpropagation equations, worked out
      dagnet info graphs/xor.json              the network's shape in numbers
      dagnet import winner.json -o winner.dagnet.json  a neat-python or FANN network

    Exit codes: 0 success, 1 bad input or a failed run, 2 a usage error.
    """
    if environment.THREADS_PROBLEM is not None:
        raise click.UsageError(environment.THREADS_PROBLEM)


# The modules, not their commands, are imported so that dagnet.cli.train stays the module.
for _command in (
    validate.validate,
    train.train,
    predict.predict,
    evaluate.evaluate,
    schema.schema,
    explain.explain,
    gradcheck.check_gradients,
    info.info,
    draw.draw,
    export.export,
    bench.bench,
    import_.import_network,
):
    main.add_command(_command)

__all__ = ["main"]
