"""``python -m dagnet``: the same command line as ``dagnet``."""

from dagnet.cli import main

if __name__ == "__main__":
    main(prog_name="dagnet")
