"""Fuzzing harness for soc2lint's parsers and Terraform evaluator (`python -m fuzz --help`).

Each input is a small tree of files scanned by the real command line in a forked child with a
time and memory limit; crashes, hangs and memory blow-ups are minimised and saved.
"""
