"""CLI: classify, evaluate, models list|promote and help texts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from models_fixtures import make_corpus, write_jsonl

from monitor.cli import main


def run(cfg: Path, *args: str, input: str | None = None):  # noqa: A002, ANN201
    return CliRunner().invoke(main, ["--config", str(cfg), *args], input=input)


def test_classify_scores_good_lines_and_reports_bad_ones(tmp_path: Path, cli_config: Path) -> None:
    f = tmp_path / "in.jsonl"
    f.write_text(
        json.dumps({"id": "a", "title": "Camat ikut deklarasi", "text": "Camat Bone diduga ikut deklarasi paslon."}) + "\n"
        "{not json\n"
        + json.dumps({"id": 3, "title": "Harga cabai", "text": "Harga cabai naik di pasar."}) + "\n"
        + json.dumps({"title": "tanpa id", "text": "x"}) + "\n",
        encoding="utf-8",
    )
    result = run(cli_config, "classify", str(f))
    assert result.exit_code == 1
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert [x["id"] for x in lines] == ["a", 3]
    assert set(lines[0]) == {"id", "score", "flagged", "model_version", "top_terms", "evidence"}
    assert lines[0]["score"] > lines[1]["score"]
    assert f"{f}:2: not valid JSON" in result.stderr
    assert f"{f}:4: missing 'id'" in result.stderr


def test_classify_reads_stdin(cli_config: Path) -> None:
    line = json.dumps({"id": 1, "title": "", "text": "Lurah membagikan sembako bergambar calon."})
    result = run(cli_config, "classify", "-", input=line + "\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["id"] == 1


def test_evaluate_on_a_data_file(tmp_path: Path, cli_config: Path) -> None:
    records = make_corpus(6, seed=99)
    records[0]["unsure"] = True
    data = write_jsonl(tmp_path / "dev.jsonl", records)
    result = run(cli_config, "evaluate", "--data", str(data))
    assert result.exit_code == 0, result.output
    assert "11 articles (5 incidents), 1 unsure skipped" in result.stdout
    for needle in ("average precision", "ROC-AUC", "precision / recall / F1", "false flags / 1,000 ordinary", "errors by category"):
        assert needle in result.stdout
    as_json = json.loads(run(cli_config, "evaluate", "--data", str(data), "--json").stdout)
    assert as_json["n_unsure_skipped"] == 1


def test_evaluate_names_a_bad_line(tmp_path: Path, cli_config: Path) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text('{"title": "x", "text": "y"}\n', encoding="utf-8")
    result = run(cli_config, "evaluate", "--data", str(data))
    assert result.exit_code == 1
    assert f"{data}:1: \"label\" must be 0 or 1" in result.output


def test_models_list_and_promote(cli_config: Path, small_registry: Path) -> None:
    result = run(cli_config, "models", "list")
    assert result.exit_code == 0
    assert "*" in result.stdout
    bad = run(cli_config, "models", "promote", "no-such-version")
    assert bad.exit_code == 1
    assert "run `monitor models list`" in bad.output


@pytest.mark.parametrize("command", [["classify"], ["train"], ["evaluate"], ["models", "list"], ["models", "promote"], ["labels", "export"]])
def test_help_opens_with_summary_and_example(command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output
    body = result.output.split("\n\n", 1)[1].strip()
    assert body.splitlines()[0].endswith(".")


def test_evaluate_without_data_runs_grouped_cv_on_the_corpus(tmp_path: Path, small_registry: Path, fixture_corpus: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"classifier:\n  model_dir: {small_registry}\n  corpus_dir: {fixture_corpus}\n", encoding="utf-8")
    result = run(cfg, "evaluate")
    assert result.exit_code == 0, result.output
    assert "grouped" in result.stdout and "48 articles (24 incidents)" in result.stdout


def test_evaluate_save_records_the_figures_in_the_model_card(tmp_path: Path, cli_config: Path, small_registry: Path) -> None:
    import shutil

    reg = tmp_path / "reg"
    shutil.copytree(small_registry, reg)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"classifier:\n  model_dir: {reg}\n", encoding="utf-8")
    data = write_jsonl(tmp_path / "dev.jsonl", make_corpus(6, seed=5))
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text('{"url": "https://contoh.id/a", "label": 1}\n', encoding="utf-8")
    result = run(cfg, "evaluate", "--data", str(data), "--save", "realset_eval", "--manifest", str(manifest))
    assert result.exit_code == 0, result.output
    (card,) = reg.glob("*/model_card.md")
    text = card.read_text(encoding="utf-8")
    assert str(data) in text and "12 (6)" in text
    saved = json.loads(next(reg.glob("*/realset_eval.json")).read_text())
    assert saved["manifest_sha256"] and saved["data_sha256"] and saved["evaluated_on"]
