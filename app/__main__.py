"""`python -m lmgnn` is the `lmgnn` command."""

from lmgnn.cli.main import main

main()
