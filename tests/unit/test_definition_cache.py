"""Parsed definitions kept beside their file: the same spec as a fresh parse, and an edit is never missed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from duban.engine.domain.errors import DefinitionError
from duban.engine.domain.workflow import load_workflow_file, parse_workflow
from duban.workflows import BUILTIN_DIR


def test_a_kept_parse_gives_the_same_spec_and_an_edit_is_parsed_afresh(tmp_path: Path) -> None:
    text = (BUILTIN_DIR / "rectification.yaml").read_text(encoding="utf-8")
    path = tmp_path / "rectification.yaml"
    path.write_text(text, encoding="utf-8")
    first = load_workflow_file(path)
    assert (tmp_path / "__pycache__" / "rectification.yaml.marshal").is_file()
    assert load_workflow_file(path) == first == parse_workflow(text, str(path))
    path.write_text(text.replace("zh: 整改任务", "zh: 整改事项", 1), encoding="utf-8")
    assert load_workflow_file(path).label.zh == "整改事项" != first.label.zh
    path.write_text(text.replace("name: rectification", "name: [rectification", 1), encoding="utf-8")
    with pytest.raises(DefinitionError):  # broken YAML is refused as before, whatever was kept
        load_workflow_file(path)


def test_a_folder_that_cannot_keep_a_parse_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "assistance.yaml"
    path.write_text((BUILTIN_DIR / "assistance.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "__pycache__").write_text("not a folder", encoding="utf-8")
    assert load_workflow_file(path).name == "assistance"
    assert sorted(os.listdir(tmp_path)) == ["__pycache__", "assistance.yaml"]


def test_a_damaged_kept_parse_is_parsed_afresh(tmp_path: Path) -> None:
    path = tmp_path / "assistance.yaml"
    path.write_text((BUILTIN_DIR / "assistance.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    spec = load_workflow_file(path)
    (tmp_path / "__pycache__" / "assistance.yaml.marshal").write_bytes(b"\x00garbage")
    assert load_workflow_file(path) == spec
