"""`a3cp evaluate DIR` on the committed real takes: figures per person and K, the mean, the confusion."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from a3cp.cli import main
from tests.fixtures.gestures import GESTURES


def test_json_output_has_every_figure_per_person_and_k(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["evaluate", str(GESTURES), "--examples", "1", "--examples", "5", "--draws", "3", "--json"]) == 0
    )
    output = json.loads(capsys.readouterr().out)
    person = output["people"]["IlkerDEMIR-s__SignLanguageDetectionFromWebcam"]
    assert set(person) == {"1", "5"} and set(output["mean"]) == {"1", "5"}
    at_five = person["5"]
    assert at_five["examples"] == 5 and at_five["queries"] == 3 * 3 * (12 - 5)
    assert at_five["accuracy"] >= 0.9 and at_five["rejection"] >= 0.7
    assert sum(count for _, _, count in at_five["confusion"]) == at_five["queries"]
    assert {decision for _, decision, _ in at_five["confusion"]} <= {
        "hello",
        "seeyoulater",
        "thanks",
        "(not sure)",
    }
    assert output["mean"]["5"]["accuracy"] == at_five["accuracy"]


def test_text_output_prints_the_table_and_the_confusion(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(GESTURES), "--examples", "3", "--draws", "2", "--seed", "7"]) == 0
    text = capsys.readouterr().out
    assert "mean over people" in text and "rejection" in text and "known_accuracy" in text
    assert "confusion, IlkerDEMIR-s__SignLanguageDetectionFromWebcam, K = 3" in text


@pytest.mark.parametrize(
    ("arrays", "complaint"),
    [
        (None, "no .npz files"),
        ({"hello": np.zeros((30, 1662), dtype=np.float32)}, "expected (N, T, 1662)"),
        ({"hello": np.zeros((3, 30, 1600), dtype=np.float32)}, "expected shape"),
    ],
)
def test_unusable_folders_are_refused_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arrays: dict[str, np.ndarray] | None, complaint: str
) -> None:
    if arrays is not None:
        np.savez(tmp_path / "someone.npz", **arrays)
    assert main(["evaluate", str(tmp_path), "--examples", "1", "--draws", "1"]) == 2
    assert complaint in capsys.readouterr().out


def test_too_many_examples_for_the_takes_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(GESTURES), "--examples", "12", "--draws", "1"]) == 2
    assert "no take left to query" in capsys.readouterr().out
