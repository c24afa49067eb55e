"""`python -m syslab.cli`."""

from syslab.cli.shell import main

main()
