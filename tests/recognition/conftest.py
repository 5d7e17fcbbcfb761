from __future__ import annotations

import numpy as np
import pytest

from tests.fixtures.gestures import load_takes
from tests.fixtures.replay import replay  # noqa: F401 (fixture of the service tests)


@pytest.fixture(scope="session")
def takes() -> dict[str, np.ndarray]:
    return load_takes()
