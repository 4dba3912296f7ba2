"""The embeddable widget, end to end, in a real headless Chromium against the real service.

Needs Debian's chromium at /usr/bin/chromium (no Playwright browser download) and the
`playwright` Python package. Screenshots go to $DQA_TEST_OUTPUT (or a pytest tmp folder) and
are always copied to test-output/widget/ in the repository (gitignored).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
ANSWER_TIMEOUT_MS = 120_000
DOC = "3476/BHXH-TCCB"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="/usr/bin/chromium is missing (apt-get install chromium); "
                              "browser tests use Debian's chromium, not a Playwright download"),
]


# ---------------------------------------------------------------------------- fixtures
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _service_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DQA_")}
    env.update({"DQA_LLM": "none", "DQA_READ_REQUIRES_KEY": "false",
                "DQA_RATE_LIMIT_PER_MINUTE": "100000", "PYTHONUNBUFFERED": "1"})
    return env


@contextlib.contextmanager
def _serving(work: Path, env: dict, sources: list[Path]):
    """Ingest these files into a fresh store under `work` and run the real service on a free
    loopback port; yields its base URL."""
    store = work / "store"
    ingest = subprocess.run([sys.executable, "-m", "service.cli", "--store", str(store), "ingest",
                             *map(str, sources)], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=900)
    assert ingest.returncode == 0, f"ingest failed:\n{ingest.stdout}\n{ingest.stderr}"
    port = _free_port()
    log_path = work / "serve.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "service.cli", "--store", str(store), "serve",
                                 "--host", "127.0.0.1", "--port", str(port)],
                                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            if proc.poll() is not None:
                pytest.fail(f"service exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                if httpx.get(base + "/readyz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"service not ready after 300 s:\n{log_path.read_text()}")
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def service_url(tmp_path_factory) -> str:
    """The samples/ corpus served by the real service, LLM off."""
    with _serving(tmp_path_factory.mktemp("widget-service"), _service_env(), [REPO / "samples"]) as base:
        yield base


@pytest.fixture(scope="session")
def output_dir(tmp_path_factory) -> Path:
    configured = os.environ.get("DQA_TEST_OUTPUT")
    folder = Path(configured) / "widget" if configured else tmp_path_factory.mktemp("widget-shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# Module scope: sync Playwright runs an event loop in this thread until it closes, which would
# break asyncio users (llama-index) in test files that pytest runs after this one.
@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def open_page(browser, service_url):
    contexts = []

    def _open(width: int = 1280, height: int = 900):
        context = browser.new_context(viewport={"width": width, "height": height})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=service_url)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.dialogs = []
        page.errors = []
        page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        page.goto(service_url + "/")
        page.locator("directive-qa textarea[name=question]").wait_for(state="visible")
        return page

    yield _open
    for context in contexts:
        context.close()


# ---------------------------------------------------------------------------- helpers
def _shot(page, output_dir: Path, name: str, full_page: bool = True) -> Path:
    """Save a PNG (full page, or just the viewport: fixed overlays only look right there)."""
    path = output_dir / name
    page.screenshot(path=str(path), full_page=full_page)
    mirror = REPO / "test-output" / "widget"
    mirror.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, mirror / name)
    return path


def _ask(page, question: str):
    """Type a question, send it, and return the locator of its finished answer turn."""
    from playwright.sync_api import expect

    index = page.locator("directive-qa .turn.answer").count()
    page.locator("directive-qa textarea[name=question]").fill(question)
    page.locator('directive-qa button[data-action="send"]').click()
    turn = page.locator("directive-qa .turn.answer").nth(index)
    expect(turn).to_have_attribute("data-state", "final", timeout=ANSWER_TIMEOUT_MS)
    return turn


def _clause_text(service_url: str, clause_id: str) -> str:
    response = httpx.get(f"{service_url}/v1/clauses/{quote(clause_id, safe='/')}", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["text"]


def _shadow_active(page) -> dict:
    return page.evaluate("""() => {
        const a = document.querySelector('directive-qa').shadowRoot.activeElement;
        return a ? {id: a.dataset.id || null, inPanel: !!a.closest('.clause-panel'),
                    cls: a.className, tag: a.tagName} : {};
    }""")


# ---------------------------------------------------------------------------- tests
def test_ask_cite_open_document_follow_up_and_refusal(open_page, service_url, output_dir):
    from playwright.sync_api import expect

    page = open_page(1280, 900)
    answer = _ask(page, "What must provincial directors do under 3476?")
    point_chips = answer.locator(f'.chip[data-id^="{DOC}#2."]')
    ids = sorted(set(point_chips.evaluate_all("els => els.map(e => e.dataset.id)")))
    assert {f"{DOC}#2.a", f"{DOC}#2.b", f"{DOC}#2.e"} <= set(ids), ids
    assert answer.locator(".refusal").count() == 0
    _shot(page, output_dir, "desktop-answer.png")

    # "Copy answer" puts the answer plus a Sources list on the clipboard
    answer.locator('button[data-action="copy"]').click()
    expect(answer.locator(".actions .note")).to_have_text("Copied")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied.startswith("Under Official Dispatch 3476/BHXH-TCCB"), copied[:200]
    assert "\nSources:\n[1] 3476/BHXH-TCCB, clause 1: “1. Thủ trưởng" in copied, copied[-600:]
    assert "**" not in copied

    # a citation chip opens the clause panel with the verbatim Vietnamese text
    chip = point_chips.first
    clause_id = chip.get_attribute("data-id")
    chip.click()
    panel = page.locator("directive-qa .clause-panel")
    expect(panel).to_be_visible()
    assert panel.get_attribute("role") == "dialog"
    assert _shadow_active(page).get("inPanel"), "focus did not move into the clause panel"
    text = _clause_text(service_url, clause_id)
    prefix = text.split("\n")[0][:60]
    expect(panel).to_contain_text(prefix)
    expect(panel).to_contain_text(DOC)
    expect(panel).to_contain_text("Translation from commentary")
    _shot(page, output_dir, "desktop-clause-panel.png", full_page=False)

    # "Open document" shows the clause tree with the cited clause highlighted
    panel.locator('button[data-action="open-document"]').click()
    highlight = panel.locator(".highlight")
    expect(highlight).to_have_count(1)
    assert highlight.get_attribute("data-id") == clause_id
    expect(highlight).to_be_in_viewport()
    assert panel.locator(".tree .node").count() >= 10
    _shot(page, output_dir, "desktop-clause-document.png", full_page=False)

    # Escape closes the panel and focus returns to the chip that opened it
    page.keyboard.press("Escape")
    expect(panel).to_have_count(0)
    assert _shadow_active(page).get("id") == clause_id

    # follow-up question uses the conversation history
    follow = _ask(page, "còn khoản 3 thì sao?")
    expect(follow.locator(f'.chip[data-id="{DOC}#3"]').first).to_be_visible()
    assert follow.get_attribute("lang") == "vi"

    # out-of-corpus question in the same conversation: the earlier document must not make it
    # answerable; a clear "not found" state plus related, uncited clauses.
    refused = _ask(page, "How is the monthly pension calculated?")
    refusal = refused.locator(".refusal")
    expect(refusal).to_be_visible()
    assert refusal.get_attribute("role") == "status"
    expect(refusal).to_contain_text("Not found in the ingested directives")
    assert refused.locator(".chip").count() == 0
    expect(refused.locator(".related button.rel").first).to_be_visible()
    _shot(page, output_dir, "desktop-refusal.png")
    assert page.locator("directive-qa .turn.answer").last.get_attribute("data-state") == "final"
    assert not page.errors, page.errors


def test_question_markup_is_shown_as_text(open_page, output_dir):
    page = open_page(1280, 900)
    payload = "<img src=x onerror=alert(1)> what does 3476 require?"
    _ask(page, payload)
    user_turn = page.locator("directive-qa .turn.user").last
    assert payload in user_turn.text_content()
    counts = page.evaluate("""() => ({
        shadow: document.querySelector('directive-qa').shadowRoot.querySelectorAll('img').length,
        page: document.querySelectorAll('img').length})""")
    assert counts == {"shadow": 0, "page": 0}, counts
    assert not page.dialogs, page.dialogs
    assert not page.errors, page.errors


def test_phone_width_layout(open_page, output_dir):
    from playwright.sync_api import expect

    page = open_page(375, 812)
    answer = _ask(page, "Giám đốc BHXH tỉnh phải làm gì theo công văn 3476?")
    assert answer.locator(".chip").count() > 0
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"horizontal overflow at phone width: {widths}"
    _shot(page, output_dir, "phone-answer-full.png")
    answer.scroll_into_view_if_needed()
    page.evaluate("() => window.scrollTo(0, 0)")
    _shot(page, output_dir, "phone-answer.png", full_page=False)
    answer.locator(".chip").first.click()
    panel = page.locator("directive-qa .clause-panel")
    expect(panel).to_be_visible()
    box = panel.bounding_box()
    assert box["width"] <= 375 and box["x"] >= 0, box
    panel.locator('button[data-action="open-document"]').click()
    expect(panel.locator(".highlight")).to_be_in_viewport()
    _shot(page, output_dir, "phone-clause-panel.png", full_page=False)
    page.locator('directive-qa .clause-panel button[data-action="close"]').click()
    expect(panel).to_have_count(0)


def test_language_toggle(open_page):
    from playwright.sync_api import expect

    page = open_page(1280, 900)
    send = page.locator('directive-qa button[data-action="send"]')
    expect(send).to_have_text("Gửi")                      # data-lang="vi" on the demo page
    page.locator('directive-qa button[data-action="lang"]').click()
    expect(send).to_have_text("Send")
    page.locator('directive-qa button[data-action="lang"]').click()
    expect(send).to_have_text("Gửi")


def test_draft_article_panel(open_page, service_url, output_dir):
    """The draft button shows the drafted article in a sandboxed panel."""
    from playwright.sync_api import expect

    response = httpx.post(service_url + "/v1/articles", timeout=120, json={
        "question": "What does 3476 require?", "lang": "en", "format": "html"})
    assert response.status_code == 200, response.text
    drafted = response.json()
    assert not drafted["refused"] and drafted["citations"], drafted
    page = open_page(1280, 900)
    page.locator("directive-qa textarea[name=question]").fill("What does 3476 require?")
    page.locator('directive-qa button[data-action="draft"]').click()
    panel = page.locator("directive-qa .article-panel")
    expect(panel).to_be_visible()
    # Drafted HTML goes only into a sandboxed iframe, never into the widget DOM.
    frame = panel.locator("iframe")
    expect(frame).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    expect(panel.locator("p.error")).to_have_count(0)
    assert frame.get_attribute("sandbox") == ""
    body = page.frame_locator("directive-qa .article-panel iframe").locator("body")
    expect(body).to_contain_text(drafted["title"], timeout=ANSWER_TIMEOUT_MS)
    for citation in drafted["citations"][:3]:        # the article's cited clauses are shown
        expect(body).to_contain_text(citation["doc"])
    _shot(page, output_dir, "desktop-article-panel.png", full_page=False)
    page.keyboard.press("Escape")
    expect(panel).to_have_count(0)
    assert not page.errors, page.errors


LLM_MODEL = Path(os.environ.get("DQA_LLM_MODEL_PATH", "models/qwen0.5b.gguf"))


@pytest.mark.llm
@pytest.mark.timeout(1800)
def test_english_draft_shows_translation_progress_then_the_article(browser, tmp_path, output_dir):
    """With an LLM configured, the draft panel reports each clause being machine-translated for an
    English article ("n/m"), then shows the article."""
    from playwright.sync_api import expect

    if not (REPO / LLM_MODEL).is_file() and not LLM_MODEL.is_file():
        pytest.skip(f"no local model at {LLM_MODEL} (make llm)")
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (make llm)")
    env = {**_service_env(), "DQA_LLM": "llamacpp", "DQA_LLM_MODEL_PATH": str(LLM_MODEL)}
    with _serving(tmp_path, env, [REPO / "samples" / "directives" / "1151-BHXH-TTKT.txt"]) as base:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(base + "/")
        page.locator("directive-qa textarea[name=question]").fill(
            "What must be reported under dispatch 1151 and by when?")
        page.locator('directive-qa button[data-action="draft"]').click()
        status = page.locator("directive-qa .article-panel p.status")
        expect(status).to_contain_text("Machine-translating clauses", timeout=ANSWER_TIMEOUT_MS)
        assert int(status.get_attribute("data-total") or 0) >= 1
        frame = page.locator("directive-qa .article-panel iframe")
        expect(frame).to_have_count(1, timeout=1_500_000)
        body = page.frame_locator("directive-qa .article-panel iframe").locator("body")
        expect(body).to_contain_text("1151/BHXH-TTKT", timeout=ANSWER_TIMEOUT_MS)
        _shot(page, output_dir, "desktop-article-translated.png", full_page=False)
        context.close()
