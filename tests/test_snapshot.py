"""The interaction-data snapshot (interactions/snapshot.py): the same tables as parsing the CSV
files, used only when made from exactly those files by exactly this code."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from regimenguard.interactions import snapshot
from regimenguard.interactions.datafile import DataError
from regimenguard.interactions.knowledge_base import (
    DATA_DIR,
    InteractionData,
    data_files,
    load_interaction_data,
    write_interaction_snapshot,
)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "interactions"
    shutil.copytree(DATA_DIR, directory, ignore=shutil.ignore_patterns(snapshot.SNAPSHOT_NAME))
    return directory


def _tables(data: InteractionData) -> InteractionData:
    """The data without its substance index (an object compared by identity)."""
    return dataclasses.replace(data, substances=None)


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_snapshot_holds_exactly_what_parsing_gives(data_dir: Path) -> None:
    parsed = load_interaction_data(data_dir, snapshot=False)
    path = write_interaction_snapshot(data_dir)
    assert path == data_dir / snapshot.SNAPSHOT_NAME
    assert snapshot.read_snapshot(data_dir, data_files(data_dir)) is not None
    from_snapshot = load_interaction_data(data_dir)
    assert _tables(from_snapshot) == _tables(parsed)
    assert len(from_snapshot.products) == len(parsed.products) > 1000
    # the substance names are rebuilt from the tables, and resolve as parsing's do
    for name in ("naproxen sodium", "APAP", "oxycodone hydrochloride", "hydrocodone bitartrate"):
        assert from_snapshot.substance_names().resolve(name) == parsed.substances.resolve(name)


def test_a_changed_data_file_is_parsed_not_read_from_a_stale_snapshot(data_dir: Path) -> None:
    write_interaction_snapshot(data_dir)
    before = load_interaction_data(data_dir)
    _replace(
        data_dir / "products.csv", "Prefilled Syringe [Brixadi]", "Prefilled Syringe [Brixadi X]"
    )
    assert snapshot.read_snapshot(data_dir, data_files(data_dir)) is None
    after = load_interaction_data(data_dir)
    assert _tables(after) != _tables(before)
    assert any(p.product.endswith("[Brixadi X]") for p in after.products)
    assert _tables(after) == _tables(load_interaction_data(data_dir, snapshot=False))


def test_a_bad_row_stops_start_up_even_with_a_snapshot_beside_it(data_dir: Path) -> None:
    write_interaction_snapshot(data_dir)
    _replace(data_dir / "products.csv", "buprenorphine:50 MG/ML", "no_such_drug:50 MG/ML")
    with pytest.raises(DataError, match=r"products\.csv row \d+: unknown ingredient"):
        load_interaction_data(data_dir)


def test_changed_parsing_code_makes_the_snapshot_stale(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_interaction_snapshot(data_dir)
    code = tmp_path / "code"
    shutil.copytree(Path(snapshot.__file__).parent, code, ignore=shutil.ignore_patterns("data"))
    monkeypatch.setattr(snapshot, "_CODE_DIR", code)
    assert snapshot.read_snapshot(data_dir, data_files(data_dir)) is not None  # same code
    (code / "products.py").write_text("# changed\n", encoding="utf-8")
    assert snapshot.read_snapshot(data_dir, data_files(data_dir)) is None


@pytest.mark.parametrize(
    "content",
    [b"", b"not a snapshot\n", snapshot._MAGIC, snapshot._MAGIC + b"0" * 64 + b"\n"],
    ids=["empty", "foreign", "no key", "wrong key"],
)
def test_an_unreadable_snapshot_only_means_parsing(data_dir: Path, content: bytes) -> None:
    (data_dir / snapshot.SNAPSHOT_NAME).write_bytes(content)
    assert snapshot.read_snapshot(data_dir, data_files(data_dir)) is None
    assert _tables(load_interaction_data(data_dir)) == _tables(
        load_interaction_data(data_dir, snapshot=False)
    )


def test_a_truncated_snapshot_with_the_right_key_only_means_parsing(data_dir: Path) -> None:
    path = write_interaction_snapshot(data_dir)
    path.write_bytes(path.read_bytes()[:-1000])
    assert snapshot.read_snapshot(data_dir, data_files(data_dir)) is None
    assert _tables(load_interaction_data(data_dir)) == _tables(
        load_interaction_data(data_dir, snapshot=False)
    )


def test_the_command_writes_once_then_reports_it_up_to_date(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert snapshot.main([str(data_dir)]) == 0
    assert "wrote" in capsys.readouterr().out
    written = (data_dir / snapshot.SNAPSHOT_NAME).stat().st_mtime_ns
    assert snapshot.main([str(data_dir)]) == 0
    assert "up to date" in capsys.readouterr().out
    assert (data_dir / snapshot.SNAPSHOT_NAME).stat().st_mtime_ns == written


def test_the_command_refuses_data_start_up_would_refuse(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _replace(data_dir / "products.csv", "buprenorphine:50 MG/ML", "no_such_drug:50 MG/ML")
    assert snapshot.main([str(data_dir)]) == 1
    assert "unknown ingredient" in capsys.readouterr().err
    assert not (data_dir / snapshot.SNAPSHOT_NAME).exists()
