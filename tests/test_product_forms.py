"""product_forms.csv: products as orders name them; every row well formed and resolvable."""

from __future__ import annotations

from pathlib import Path

import pytest

from interactions.datafile import DataError
from interactions.product_forms import COLUMNS, FILENAME, load_product_forms
from regimen.sig.knowledge_catalog import KnowledgeCatalog

HEADER = ",".join(COLUMNS)


def test_every_row_names_its_source_and_resolves(knowledge) -> None:  # type: ignore[no-untyped-def]
    forms = load_product_forms()
    assert forms and all(form.source for form in forms)
    catalog = KnowledgeCatalog(knowledge, forms)  # refuses an ingredient it cannot resolve
    assert catalog.ingredients("Tylenol ES") == ("acetaminophen",)
    assert catalog.product("Voltaren", "gel") is not None
    assert catalog.rate_dosed_when_transdermal("fentanyl")
    assert not catalog.rate_dosed_when_transdermal("lidocaine")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("X,acetaminophen:500,mg/tab,tab,oral,,,,src", "unit must be one of"),
        ("X,acetaminophen:500,mg,tab,by mouth,,,,src", "route must be one of"),
        ("X,acetaminophen:lots,mg,tab,oral,,,,src", "must be name or name:amount"),
        ("X,acetaminophen:0,mg,tab,oral,,,,src", "the amount must be > 0"),
        ("X,,mg,tab,oral,,,,src", "at least one ingredient"),
        ("X,acetaminophen:500,mg,tab,oral,,,,", "'source' is empty"),
    ],
)
def test_a_bad_row_is_refused_naming_the_row(tmp_path: Path, row: str, message: str) -> None:
    (tmp_path / FILENAME).write_text(f"{HEADER}\n{row}\n", encoding="utf-8")
    with pytest.raises(DataError, match=message) as raised:
        load_product_forms(tmp_path)
    assert f"{FILENAME} row 2" in str(raised.value)


def test_an_unknown_ingredient_is_refused(tmp_path: Path, knowledge) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / FILENAME).write_text(f"{HEADER}\nX,unobtainium:5,mg,tab,oral,,,,src\n")
    with pytest.raises(DataError, match="unknown ingredient 'unobtainium'"):
        KnowledgeCatalog(knowledge, load_product_forms(tmp_path))
