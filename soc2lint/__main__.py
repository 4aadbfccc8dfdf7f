"""`python -m soc2lint`: the same command line as the `soc2lint` script (the GitHub Action runs
it as `python -I -m soc2lint`, so that nothing in the scanned checkout can be imported)."""

from .cli import main

if __name__ == "__main__":  # not when a spawned worker process imports this module again
    main(prog_name="soc2lint")
