"""The services of one app instance: built by the composition root (a3cp.bootstrap), named here for web/."""

from a3cp.bootstrap import Services

__all__ = ["Services"]
