"""`dqa --url`: the same commands against a running service over HTTP, same output, same exit codes."""
import json
import os
import subprocess
import sys

import pytest

from service_fixture import REPO, Service, run_cli


def remote(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "service.cli", "--url", url, *args], cwd=REPO,
                          env=os.environ.copy(), capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    store = tmp_path_factory.mktemp("remote") / "store"
    run_cli("ingest", str(REPO / "samples"), store=store)
    running = Service(store)
    yield running
    running.stop()


def test_remote_commands_answer_like_the_local_ones(service):
    docs = json.loads(remote(service.url, "docs", "--json").stdout)
    assert {d["number"] for d in docs} >= {"1151/BHXH-TTKT", "3476/BHXH-TCCB"}
    shown = json.loads(remote(service.url, "show", "3476 / BHXH-TCCB", "--json").stdout)
    assert shown["number"] == "3476/BHXH-TCCB" and shown["clauses"]
    clause = json.loads(remote(service.url, "clause", "3476/BHXH-TCCB#2.a", "--json").stdout)
    assert clause["path"] == "2.a"
    answer = json.loads(remote(service.url, "ask", "Công văn 1151 yêu cầu báo cáo trước ngày nào?",
                               "--json").stdout)
    assert not answer["refused"] and "20/5/2022" in answer["answer"]
    hits = json.loads(remote(service.url, "search", "kiểm tra đột xuất", "--json").stdout)["hits"]
    assert hits and all("#" in h["id"] for h in hits)


def test_remote_errors_keep_their_exit_codes_and_one_line(service):
    missing = remote(service.url, "show", "9999/BHXH-XX")
    assert missing.returncode == 3
    assert "9999/BHXH-XX" in missing.stderr and len(missing.stderr.strip().splitlines()) == 1
    store_only = remote(service.url, "check")
    assert store_only.returncode == 2 and "--url" in store_only.stderr
    unreachable = remote("http://127.0.0.1:9", "docs")
    assert unreachable.returncode == 4 and "cannot reach" in unreachable.stderr


def test_remote_draft_comes_through_the_stream_like_the_local_one(service):
    question = "Giám đốc BHXH tỉnh phải làm gì theo Công văn 3476?"
    drafted = remote(service.url, "draft", question, "--json")
    assert drafted.returncode == 0, drafted.stderr
    article = json.loads(drafted.stdout)
    assert not article["refused"] and "3476/BHXH-TCCB" in article["rendered"]
    assert all(c["id"].startswith("3476/BHXH-TCCB") for c in article["citations"])
