"""Landmark extraction: the feature layout and the MediaPipe Holistic tracker that fills it."""
