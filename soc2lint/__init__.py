"""soc2lint: policy-as-code checks for infrastructure code, mapped to SOC 2 criteria."""

__version__ = "0.1.0"
