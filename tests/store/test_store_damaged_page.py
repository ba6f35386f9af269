"""The dashboard on a damaged store: what is wrong and the user's choices, never a traceback;
nothing is replaced until a button is pressed."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from damage_helpers import build_store, damage_page, truncate
from streamlit.testing.v1 import AppTest

from dashboard import resources
from firmware_bridge.store import DB_NAME, Store

PAGES = Path(__file__).resolve().parents[2] / "dashboard" / "views"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("built")
    build_store(data_dir)
    return data_dir


@pytest.fixture
def home(built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """PRESSUREGUARD_HOME holding a copy of the built store."""
    target = tmp_path / "home"
    target.mkdir()
    shutil.copyfile(built / DB_NAME, target / DB_NAME)
    monkeypatch.setenv("PRESSUREGUARD_HOME", str(target))
    resources.close_stores()
    yield target
    resources.close_stores()


def page(name: str = "journal") -> AppTest:
    at = AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    return at


def kept_files(home: Path) -> list[Path]:
    return [p for p in home.iterdir() if p.name.endswith(".damaged.sqlite")]


def test_a_damaged_store_shows_the_problem_and_saves_what_it_can_on_request(home: Path) -> None:
    damage_page(home / DB_NAME)
    at = page("history")
    assert "damaged page" in at.error[0].value
    kept = kept_files(home)
    assert len(kept) == 1 and any(str(kept[0]) in m.value for m in at.markdown)
    labels = [b.label for b in at.button]
    assert labels == ["Save what can be read", "Start an empty store"]
    assert not (home / DB_NAME).exists()  # nothing replaced before the user chooses
    at = page("history")  # a reload changes nothing
    assert not (home / DB_NAME).exists() and len(kept_files(home)) == 1

    at.button[0].click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == ["Your data was saved into a new store."]
    report = next(m.value for m in at.markdown if m.value.startswith("- saved "))
    assert "samples lost" in report and "the damaged file stays at" in report
    with Store.open(home) as store:
        assert len(store.list_sessions()) == 6
    assert not at.error


def test_starting_empty_needs_a_confirmation(home: Path) -> None:
    truncate(home / DB_NAME)
    at = page()
    reset = at.button[1]
    assert reset.disabled
    at.checkbox[0].check().run()
    at.button[1].click().run()
    assert not at.exception, at.exception
    assert any("An empty store was started" in m.value for m in at.markdown)
    with Store.open(home) as store:
        assert store.list_sessions() == []
    assert len(kept_files(home)) == 1


def _junk_inside_samples(path: Path) -> None:
    """Junk inside sample bytes that leaves SQLite's structure whole (opening cannot see it)."""
    from damage_helpers import page_size, pages_of

    page = pages_of(path, "sample_chunks", "overflow")[5]
    with path.open("r+b") as fh:
        fh.seek((page - 1) * page_size(path) + 1000)
        fh.write(b"\x7f" * 64)


def test_the_background_check_finds_what_opening_cannot(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _junk_inside_samples(home / DB_NAME)
    monkeypatch.setattr(resources, "BACKGROUND_CHECK_DELAY_S", 0.0)
    resources.get_store()  # opens fine: the structure is whole
    check = resources._checks[home.resolve()]
    assert check.wait(30) and check.problem is not None and "checksum" in check.problem
    at = page()
    assert "damaged chunk" in at.error[0].value
    assert [b.label for b in at.button] == ["Save what can be read"]
    assert (home / DB_NAME).exists()  # left in place: nothing moved behind the user's back

    at.button[0].click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == ["Your data was saved into a new store."]
    assert len(kept_files(home)) == 1
    with Store.open(home) as store:
        assert store.check(full=True).ok
        assert len(store.list_sessions()) == 6


def test_the_background_check_of_an_intact_store_finds_nothing(home: Path) -> None:
    from firmware_bridge.store.background_check import BackgroundCheck

    found: list[str] = []
    check = BackgroundCheck(home / DB_NAME, found.append, delay_s=0.0)
    check.start()
    assert check.wait(30)
    assert found == [] and check.problem is None and check.chunks > 6
