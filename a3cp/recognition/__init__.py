"""Personal gesture recognition: few-shot, template based, per user (docs/recognition.md).

`build(examples)` turns a person's own labelled takes into a `Recognizer`; `Recognizer.recognize(features)`
answers a label or None ("not sure") with every label's score. Pure code: no I/O, no events; the service and
the CLI call it. The extractor never classifies; this package is the only place that does.
"""

from a3cp.recognition.errors import InvalidFeatures, InvalidVocabulary
from a3cp.recognition.model import CODE_VERSION, Recognition, Recognizer, RecognizerParams, build

__all__ = [
    "CODE_VERSION",
    "InvalidFeatures",
    "InvalidVocabulary",
    "Recognition",
    "Recognizer",
    "RecognizerParams",
    "build",
]
