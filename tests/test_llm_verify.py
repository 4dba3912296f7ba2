"""The deterministic verifier of LLM output and the backends' plumbing (no model involved)."""
from __future__ import annotations

from ingest.model import Citation
from service.llm.verify import (
    check_translation, extract_facts, relevant_glossary,
    split_units, translate_clause, verify_answer,
)

CLAUSE_7 = (
    "7. Tổng hợp, rà soát số tiền hưởng BHXH, BHTN, BHYT sai quy định phải thu hồi ... "
    "Báo cáo kết quả rà soát, thực hiện về BHXH Việt Nam (qua Vụ Thanh tra - Kiểm tra) "
    "trước ngày 20/5/2022 để tổng hợp, báo cáo Tổng Giám đốc."
)
CLAUSE_1 = (
    "1. Tiếp tục quán triệt, triển khai nghiêm túc ... tại Công văn số 133/BHXH-TTKT "
    "ngày 14/01/2022 về thực hiện công tác thanh tra, kiểm tra, giải quyết KNTC."
)
CLAUSE_CD = "Thực hiện Công điện số 968/CĐ-TTg ngày 20/10/2022 của Thủ tướng Chính phủ."


def _citation(n: int, path: str, quote: str, doc: str = "1151/BHXH-TTKT") -> Citation:
    return Citation(n=n, id=f"{doc}#{path}", doc=doc, path=path, label=f"mục {path}", quote=quote)


CITATIONS = [_citation(1, "7", CLAUSE_7), _citation(2, "1", CLAUSE_1)]
TEXTS = {1: CLAUSE_7, 2: CLAUSE_1}


def _by_text(result, fragment):
    return next(s for s in result.sentences if fragment in s.text)


def test_correct_sentences_are_kept():
    answer = ("Các đơn vị báo cáo kết quả rà soát qua Vụ Thanh tra - Kiểm tra trước ngày 20/05/2022 [1]. "
              "Việc thực hiện theo Công văn số 133/BHXH-TTKT ngày 14/1/2022 [2].")
    result = verify_answer(answer, CITATIONS, TEXTS)
    assert result.n_total == 2 and result.n_kept == 2
    assert result.passed and not result.forged_markers
    assert "20/05/2022 [1]." in result.kept_text and "[2]" in result.kept_text


def test_english_date_forms_match_the_clause():
    answer = "Units must report to the Inspection Department before May 20, 2022 [1]."
    assert verify_answer(answer, CITATIONS, TEXTS).passed


def test_forged_marker_is_caught():
    answer = ("Báo cáo trước ngày 20/5/2022 [1]. "
              "Mức phạt là 10 triệu đồng [3].")
    result = verify_answer(answer, CITATIONS, TEXTS)
    assert result.forged_markers == [3]
    forged = _by_text(result, "10 triệu")
    assert not forged.ok and "forged" in forged.reason
    assert "[3]" not in result.kept_text
    assert result.n_kept == 1


def test_date_not_in_cited_clause_is_removed():
    # The deadline is in clause [1], not in clause [2] that this sentence cites.
    answer = ("Báo cáo trước ngày 20/5/2022 [1]. "
              "Công văn 133/BHXH-TTKT yêu cầu báo cáo trước ngày 30/6/2022 [2].")
    result = verify_answer(answer, CITATIONS, TEXTS)
    bad = _by_text(result, "30/6/2022")
    assert not bad.ok and "30/6/2022" in bad.reason
    assert "30/6/2022" not in result.kept_text
    assert result.n_kept == 1 and result.passed   # 1 of 2 kept meets the 50% bar


def test_date_from_another_clause_is_not_borrowed():
    answer = "Công văn 133/BHXH-TTKT yêu cầu báo cáo trước ngày 20/5/2022 [2]."
    result = verify_answer(answer, CITATIONS, TEXTS)
    assert result.n_kept == 0 and not result.passed


def test_sentence_without_marker_is_removed():
    answer = ("Báo cáo trước ngày 20/5/2022 [1]. "
              "Ngoài ra các đơn vị nên tổ chức hội nghị tổng kết.")
    result = verify_answer(answer, CITATIONS, TEXTS)
    bad = _by_text(result, "hội nghị")
    assert not bad.ok and bad.reason == "no citation marker"
    assert "hội nghị" not in result.kept_text


def test_repetition_is_dropped():
    line = "- Báo cáo qua Vụ Thanh tra - Kiểm tra trước ngày 20/5/2022 [1]."
    result = verify_answer("\n".join([line] * 4), CITATIONS, TEXTS)
    assert result.n_kept == 1
    assert [s.reason for s in result.sentences[1:]] == ["repeated sentence"] * 3
    assert result.kept_text.count("20/5/2022") == 1
    assert not result.passed          # a looping answer falls back


def test_degenerate_loop_inside_one_sentence_is_dropped():
    answer = "Báo cáo " + "rà soát số tiền thu hồi, " * 6 + "trước ngày 20/5/2022 [1]."
    result = verify_answer(answer, CITATIONS, TEXTS)
    assert result.sentences[0].reason == "degenerate repetition"


def test_invented_number_is_removed():
    answer = "Phải thu hồi 15 vụ việc trước ngày 20/5/2022 [1]."
    result = verify_answer(answer, CITATIONS, TEXTS)
    assert not result.passed and "number 15" in result.sentences[0].reason


def test_document_number_ascii_form_and_label_are_accepted():
    cits = [_citation(1, "2.a", CLAUSE_CD, doc="3476/BHXH-TCCB")]
    answer = "Theo khoản 2 điểm a, các đơn vị thực hiện Công điện 968/CD-TTg [1]."
    assert verify_answer(answer, cits, {1: CLAUSE_CD}).passed
    wrong = "Các đơn vị thực hiện Công điện 986/CĐ-TTg [1]."
    result = verify_answer(wrong, cits, {1: CLAUSE_CD})
    assert not result.passed and "document number" in result.sentences[0].reason


def test_markers_after_period_and_bullets_split_correctly():
    answer = ("Trả lời:\n- Báo cáo trước ngày 20/5/2022.[1]\n"
              "- Thực hiện Công văn số 133/BHXH-TTKT. [2] Xem thêm TP. Hà Nội [2].")
    units = split_units(answer)
    assert [u.text for u in units] == [
        "Trả lời:", "Báo cáo trước ngày 20/5/2022.[1]",
        "Thực hiện Công văn số 133/BHXH-TTKT. [2]", "Xem thêm TP. Hà Nội [2].",
    ]
    result = verify_answer(answer, CITATIONS, TEXTS)
    assert result.n_kept == 3 and result.passed
    assert result.kept_text.splitlines()[0].startswith("- Báo cáo")


def test_cannot_answer_fails_so_caller_falls_back():
    result = verify_answer("Không thể trả lời từ các điều khoản đã cung cấp.", CITATIONS, TEXTS)
    assert not result.passed and result.kept_text == ""


def test_fact_normalisation():
    assert extract_facts("Công điện 968/CĐ-TTg").doc_numbers == extract_facts("968/CD-TTG [1]").doc_numbers
    facts = extract_facts("ngày 20 tháng 5 năm 2022 và 1.000.000 đồng [4]")
    assert (20, 5, 2022) in facts.dates and "1000000" in facts.numbers
    assert "4" not in facts.numbers


# ------------------------------------------------------------- translation

class _CannedLLM:
    """Stands in for an LLM: returns a fixed reply and records the prompt."""

    def __init__(self, reply: str):
        self.reply = reply
        self.prompts: list[str] = []

    def chat(self, messages, **kwargs):
        from llama_index.core.base.llms.types import ChatMessage, ChatResponse, MessageRole
        self.prompts.append("\n".join(m.content for m in messages))
        return ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=self.reply))


GLOSSARY = {"kiểm tra đột xuất": "unannounced inspection", "Vụ Thanh tra - Kiểm tra": "Inspection Department"}


def test_translation_glossary_only_relevant_terms():
    assert relevant_glossary(CLAUSE_7, GLOSSARY) == {"Vụ Thanh tra - Kiểm tra": "Inspection Department"}
    llm = _CannedLLM("Report the review results to VSS (via the Inspection Department) before 20/5/2022.")
    out = translate_clause(llm, CLAUSE_7, GLOSSARY)
    assert out and "20/5/2022" in out
    assert "Inspection Department" in llm.prompts[0] and "unannounced" not in llm.prompts[0]


def test_translation_rejects_lost_date_repetition_and_empty():
    assert translate_clause(_CannedLLM("Report the results soon."), CLAUSE_7, GLOSSARY) is None
    assert translate_clause(_CannedLLM(""), CLAUSE_7, GLOSSARY) is None
    loop = "Report before 20/5/2022. " + "the review the review the review the review " * 4
    assert translate_clause(_CannedLLM(loop), CLAUSE_7, GLOSSARY) is None
    assert check_translation(CLAUSE_1, "Implement Official Letter 133/BHXH-TTKT of January 14, 2022.") is None
    assert "133" in check_translation(CLAUSE_1, "Implement the Official Letter of 14/01/2022.")


# ------------------------------------------------------------- backends (no model)

def test_build_llm_none_and_missing_model_never_download():
    import pytest
    from service.llm import build_llm
    from service.settings import Settings

    assert build_llm(Settings(llm="none")) is None
    # Checked before llama-cpp is imported: works without `make llm`, and never downloads.
    with pytest.raises(FileNotFoundError, match="make llm"):
        build_llm(Settings(llm="llamacpp", llm_model_path="/nonexistent/model.gguf"))
    with pytest.raises(ValueError):
        build_llm(Settings(llm="openai", llm_api_base=None))


def test_llm_settings_come_from_the_one_settings_object(monkeypatch):
    from service.llm import LLMSettings
    from service.settings import Settings

    monkeypatch.setenv("DQA_LLM", "openai")
    monkeypatch.setenv("DQA_LLM_API_BASE", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("DQA_LLM_MODEL_PATH", "models/x.gguf")
    cfg = LLMSettings.from_settings(Settings())
    assert (cfg.backend, cfg.api_base, str(cfg.model_path), cfg.api_model) == (
        "openai", "http://127.0.0.1:9/v1", "models/x.gguf", Settings.model_fields["llm_api_model"].default)
    assert not hasattr(LLMSettings, "from_env")
    # The user-facing values have one default, in Settings.
    assert LLMSettings.model_fields["model_path"].default is None


def test_importing_the_llm_package_does_not_import_llama_cpp():
    import subprocess
    import sys

    code = ("import sys, service.llm, service.llm.composer, service.llm.verify; "
            "print(any(m.split('.')[0] in ('llama_cpp',) or m.startswith('llama_index.llms.llama_cpp')"
            " for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_prompts_are_package_data():
    from importlib.resources import files

    from service.llm.prompts import load_prompt

    names = {p.name for p in files("prompts").iterdir()}
    assert {"answer_en.txt", "answer_vi.txt", "translate_clause.txt", "judge_support.txt"} <= names
    system, user = load_prompt("answer_en")
    assert "JSON" in system and "{clauses}" in user


def test_openai_like_backend_caps_tokens_and_streams():
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from service.llm import LLMSettings, build_llm, generate, prompt_messages, stream_tokens
    from service.llm.backends import with_json_schema
    from service.llm.composer import answer_schema

    requests: list[dict] = []
    reply = "Báo cáo trước ngày 20/5/2022 [1]."

    class Stub(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            requests.append(body)
            if body.get("stream"):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for piece in ("Báo cáo ", "trước ngày ", "20/5/2022 [1]."):
                    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
                             "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                return
            data = json.dumps({
                "id": "c", "object": "chat.completion", "created": 0, "model": "m",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": reply}}],
            }).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = HTTPServer(("127.0.0.1", 0), Stub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        llm = build_llm(LLMSettings(backend="openai", api_model="m",
                                    api_base=f"http://127.0.0.1:{server.server_port}/v1"))
        messages = prompt_messages("judge_support", n="1", clause="c", sentence="s")
        assert generate(llm, messages, max_tokens=7) == reply
        assert requests[-1]["max_tokens"] == 7 and requests[-1]["messages"][0]["role"] == "system"
        assert "response_format" not in requests[-1]
        assert "".join(stream_tokens(llm, messages, max_tokens=9)) == reply
        assert requests[-1]["max_tokens"] == 9
        # The constrained answer format reaches the endpoint as response_format json_schema.
        schema = answer_schema([1, 2])
        "".join(stream_tokens(with_json_schema(llm, schema), messages, max_tokens=9))
        sent = requests[-1]["response_format"]
        assert sent["type"] == "json_schema" and sent["json_schema"]["schema"] == schema
        assert "response_format" not in llm.additional_kwargs      # a copy, not the shared LLM
    finally:
        server.shutdown()
