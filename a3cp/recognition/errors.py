"""The recognizer's domain errors: input it cannot use, named by the field at fault."""

from __future__ import annotations

from a3cp.domain.errors import DomainError


class InvalidFeatures(DomainError):
    """A feature array of the wrong shape or content (not the 1662 layout, too short, no shoulders)."""

    code = "invalid_features"


class InvalidVocabulary(DomainError):
    """Examples the recognizer cannot be built from (no labels, a label without examples)."""

    code = "invalid_vocabulary"
