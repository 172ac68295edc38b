"""Fixtures for the classifier tests: a small written corpus and a registry trained on it."""

from __future__ import annotations

from pathlib import Path

import pytest
from models_fixtures import make_corpus, write_jsonl


@pytest.fixture(scope="session")
def fixture_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    write_jsonl(folder / "fixture.jsonl", make_corpus())
    return folder


@pytest.fixture(scope="session")
def small_registry(tmp_path_factory: pytest.TempPathFactory, fixture_corpus: Path) -> Path:
    """A registry with one promoted version trained on the fixture corpus."""
    from models.training import train

    root = tmp_path_factory.mktemp("registry")
    train(root, fixture_corpus, grid=({"C": 4.0},))
    return root


@pytest.fixture
def cli_config(tmp_path: Path, small_registry: Path) -> Path:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        f"classifier:\n  model_dir: {small_registry}\ndatabase:\n  url: sqlite:///{tmp_path / 'monitor.db'}\n",
        encoding="utf-8",
    )
    return cfg
