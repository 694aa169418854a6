"""``python -m territorial``: the same command line as ``territorial``."""

from territorial.cli.app import main

main()
