"""Terraform evaluation: expressions (`expressions`), built-in functions (`functions`),
modules with their variables, locals and instances (`module`), and the scan's set of
directories and root modules (`project`)."""
