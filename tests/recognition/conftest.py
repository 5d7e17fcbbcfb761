from __future__ import annotations

import numpy as np
import pytest

from tests.fixtures.gestures import load_takes


@pytest.fixture(scope="session")
def takes() -> dict[str, np.ndarray]:
    return load_takes()
