"""The LLM answer path measured: how often the constrained (JSON, one statement per clause)
LLM answer passes verification without falling back, time per answer, and key-fact coverage
with the LLM on vs off, over an evaluation set.

    .venv/bin/python bench/llm_answers.py eval/datasets/seeds.jsonl --model models/qwen0.5b.gguf

Ingests samples/ (or --corpus FOLDER) into a temporary store; answerable records only.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[0] = str(REPO)     # not bench/ (bench/ingest.py would shadow the ingest package)

from eval.dataset import load_dataset  # noqa: E402
from eval.metrics import key_fact_coverage  # noqa: E402
from ingest.pipeline import ingest_files  # noqa: E402
from service.llm.composer import HEADER_INTENTS  # noqa: E402
from service.runtime import Runtime  # noqa: E402
from service.settings import Settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--model", type=Path, default=REPO / "models" / "qwen0.5b.gguf")
    parser.add_argument("--corpus", type=Path, action="append", default=None)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--every", type=int, default=1, help="take every Nth record (a spread subset)")
    parser.add_argument("--out", type=Path, default=None, help="write per-question rows (jsonl)")
    args = parser.parse_args()
    records = [r for r in load_dataset(args.dataset) if r.answerable and not r.history]
    records = records[:: args.every]
    records = records[: args.limit] if args.limit else records
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(store=Path(tmp) / "store", llm="llamacpp", llm_model_path=args.model)
        rt = Runtime(settings)
        rt.commit_batch(ingest_files(args.corpus or [REPO / "samples"]))
        composer = rt.composer()
        rows = []
        for record in records:
            grounded = rt.ask(record.question, use_llm=False)
            if grounded.refused or grounded.intent in HEADER_INTENTS:
                # Refusals and header answers (signer, date, references...) never reach the LLM.
                rows.append({"id": record.id, "refused": grounded.refused, "header": True,
                             "coverage_off": key_fact_coverage(grounded.answer, record.key_facts)})
                continue
            started = time.perf_counter()
            answer = composer.compose(rt.engine, record.question, grounded)
            seconds = time.perf_counter() - started
            row = {"id": record.id, "refused": False, "lang": record.lang,
                   "accepted": answer.verification.composer == "llm", "seconds": round(seconds, 2),
                   "clauses": len(grounded.citations),
                   "kept": answer.verification.checked_sentences - answer.verification.removed_sentences,
                   "checked": answer.verification.checked_sentences,
                   "coverage_off": key_fact_coverage(grounded.answer, record.key_facts),
                   "coverage_on": key_fact_coverage(answer.answer, record.key_facts),
                   "note": answer.verification.note, "answer": answer.answer}
            rows.append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "answer"}, ensure_ascii=False),
                  file=sys.stderr, flush=True)
        rt.close()
    answered = [r for r in rows if not r.get("header")]
    accepted = [r for r in answered if r["accepted"]]

    def mean(key: str, subset=answered):
        values = [r[key] for r in subset if r.get(key) is not None]
        return round(statistics.fmean(values), 3) if values else None

    summary = {
        "dataset": str(args.dataset), "model": args.model.name, "questions": len(records),
        "grounded_only (refused or header answers)": len(rows) - len(answered),
        "llm_composed": len(answered),
        "accepted_without_fallback": len(accepted),
        "acceptance_rate": round(len(accepted) / len(answered), 3) if answered else None,
        "seconds_per_answer_mean": mean("seconds"),
        "seconds_per_answer_p50": (round(statistics.median(r["seconds"] for r in answered), 2)
                                   if answered else None),
        "key_fact_coverage_llm_off": mean("coverage_off"),
        "key_fact_coverage_llm_on": mean("coverage_on"),
        "sentences_kept_share": (round(sum(r["kept"] for r in answered)
                                       / max(1, sum(r["checked"] for r in answered)), 3)),
    }
    if args.out:
        args.out.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                            encoding="utf-8")
    print(json.dumps(summary, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
