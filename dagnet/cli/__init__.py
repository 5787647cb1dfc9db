"""The ``dagnet`` command line: thin commands that call the library and print.

Data, ``--json`` documents and the findings of ``validate`` go to stdout; progress and messages,
including the problems that stop ``train`` or ``predict``, go to stderr. Exit codes: 0 success,
1 bad input or a failed run (a one-paragraph message, never a traceback), 2 a usage error,
130 interrupted. Each command lives in its own module; this one gathers them into the group.
"""

from __future__ import annotations

from typing import Any

import click

from dagnet import __version__
from dagnet.cli import (
    bench,
    draw,
    explain,
    export,
    gradcheck,
    info,
    predict,
    schema,
    train,
    validate,
)
from dagnet.cli.common import EXIT_INTERRUPTED, count
from dagnet.errors import DagnetError, GraphFileError


class _Commands(click.Group):
    """Turns the errors that are the user's to fix into a message and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GraphFileError as exc:
            if len(exc.errors) == 1:
                raise click.ClickException(exc.errors[0].format(exc.file)) from None
            for problem in exc.errors:
                click.echo(problem.format(exc.file), err=True)
            what = exc.file or "the graph"
            raise click.ClickException(
                f"{what} is not a valid dagnet graph ({count(len(exc.errors), 'error')} above)"
            ) from None
        except DagnetError as exc:
            coded = f"{exc} [{exc.code}]" if exc.code else str(exc)
            raise click.ClickException(coded) from None
        except KeyboardInterrupt:
            click.echo("interrupted; nothing was written", err=True)
            ctx.exit(EXIT_INTERRUPTED)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dagnet")
def main() -> None:
    """Train neural networks of any acyclic shape, described unit by unit in a JSON file.

    \b
    Start here:
      dagnet validate graphs/*.json          check graph files, every problem at once
      dagnet train graphs/multi_output.json  train; writes graphs/multi_output.trained.json
      dagnet predict graphs/multi_output.trained.json --data graphs/multi_output.csv
      dagnet explain graphs/multi_output.json  the backpropagation equations, worked out
      dagnet info graphs/xor.json              the network's shape in numbers

    Exit codes: 0 success, 1 bad input or a failed run, 2 a usage error.
    """


# The modules, not their commands, are imported so that dagnet.cli.train stays the module.
for _command in (
    validate.validate,
    train.train,
    predict.predict,
    schema.schema,
    explain.explain,
    gradcheck.check_gradients,
    info.info,
    draw.draw,
    export.export,
    bench.bench,
):
    main.add_command(_command)

__all__ = ["main"]
