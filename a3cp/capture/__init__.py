"""The capture pipeline: decode frames in memory, extract landmarks, write the feature artifact."""
