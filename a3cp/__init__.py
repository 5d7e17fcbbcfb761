"""A3CP: the gesture capture loop of the Ability-Adaptive Augmentative Communication Platform."""

__version__ = "0.1.0"
