"""Report writers: report.json (everything), report.md (summary), report.html (self-contained).

The HTML has no external assets: charts are inline SVG and every piece of text
from questions, answers and quotes goes through html.escape.
"""
from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

HEADLINE_METRICS = [
    "recall_at_5", "mrr_at_10", "ndcg_at_10", "citation_precision", "citation_recall", "citation_f1",
    "quote_fidelity", "key_fact_coverage", "language_match", "refusal_f1", "pass_rate",
]
TABLE_METRICS = HEADLINE_METRICS + [
    "recall_at_1", "recall_at_10", "fabricated_citations", "fabricated_citation_rate",
    "refusal_precision", "refusal_recall", "false_refusals", "false_answers", "errors",
    "latency_p50_s", "latency_p95_s", "questions",
]
PALETTE = ["#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#64748b"]


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def write_json(report: Any, path: Path, failures: list[str] | None = None) -> Path:
    data = report.to_dict()
    data["threshold_failures"] = failures
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return path


def write_markdown(report: Any, path: Path, failures: list[str] | None = None) -> Path:
    systems = report.systems
    lines = [f"# directive-qa evaluation ({report.created})", "",
             "Datasets: " + ", ".join(f"`{d}`" for d in report.datasets), ""]
    if failures is not None:
        lines += ["## Thresholds", ""]
        lines += [f"- FAIL {f}" for f in failures] if failures else ["All thresholds met."]
        lines.append("")
    lines += ["## Overall", "", "| metric | " + " | ".join(run.name for run in systems) + " |",
              "|---|" + "---:|" * len(systems)]
    for metric in TABLE_METRICS:
        lines.append(f"| {metric} | " + " | ".join(_fmt(run.metrics["overall"].get(metric)) for run in systems) + " |")
    lines += ["", f"## {report.primary.name} by language", "", "| metric | overall | vi | en |", "|---|---:|---:|---:|"]
    for metric in TABLE_METRICS:
        row = [_fmt(report.primary.metrics[split].get(metric)) for split in ("overall", "vi", "en")]
        lines.append(f"| {metric} | " + " | ".join(row) + " |")
    failed = [q for q in report.primary.questions if not q.score.passed]
    lines += ["", f"## Failed questions ({len(failed)} of {len(report.primary.questions)})", ""]
    for q in failed:
        s = q.score
        reasons = []
        if s.error:
            reasons.append(f"error: {s.error}")
        if q.record.answerable and s.refused:
            reasons.append("false refusal")
        if not q.record.answerable and not s.refused:
            reasons.append("answered an unanswerable question")
        if q.record.answerable and not s.refused and not s.citation_recall:
            reasons.append("no gold clause cited")
        if s.fabricated:
            reasons.append("fabricated: " + ", ".join(s.fabricated))
        if s.key_facts_missed:
            reasons.append("missed facts: " + "; ".join(" / ".join(alts) for alts in s.key_facts_missed))
        question = q.record.question.replace("|", "\\|").replace("\n", " ")
        lines.append(f"- `{q.record.id}` ({q.record.lang}) {question} — " + "; ".join(reasons))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- SVG


def bar_chart_svg(title: str, values: list[tuple[str, float | None]], width: int = 360) -> str:
    """Horizontal bars on a 0..1 scale, one per system."""
    bar_h, gap, label_w, top = 18, 6, 130, 24
    height = top + len(values) * (bar_h + gap) + 6
    plot_w = width - label_w - 50
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(title)}"><text x="4" y="16" font-size="13" font-weight="bold">{escape(title)}</text>']
    for i, (name, value) in enumerate(values):
        y = top + i * (bar_h + gap)
        length = 0 if value is None else max(0.0, min(1.0, value)) * plot_w
        parts.append(f'<text x="4" y="{y + 13}" font-size="11">{escape(name[:20])}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{plot_w}" height="{bar_h}" fill="#f1f5f9"/>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{length:.1f}" height="{bar_h}" '
                     f'fill="{PALETTE[i % len(PALETTE)]}"/>')
        parts.append(f'<text x="{label_w + plot_w + 4}" y="{y + 13}" font-size="11">{escape(_fmt(value))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def histogram_svg(title: str, values: list[float], bins: int = 12, width: int = 360, height: int = 160,
                  color: str = PALETTE[0]) -> str:
    top, bottom, left = 24, 22, 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(title)}"><text x="4" y="16" font-size="13" font-weight="bold">{escape(title)}</text>']
    if not values:
        parts.append(f'<text x="{left}" y="{height / 2}" font-size="11">no latencies</text></svg>')
        return "".join(parts)
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - low) / span * bins))] += 1
    plot_w, plot_h = width - left - 10, height - top - bottom
    bar_w = plot_w / bins
    peak = max(counts)
    for i, count in enumerate(counts):
        h = count / peak * plot_h
        parts.append(f'<rect x="{left + i * bar_w:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 1:.1f}" '
                     f'height="{h:.1f}" fill="{color}"><title>{count}</title></rect>')
    parts.append(f'<text x="{left}" y="{height - 6}" font-size="10">{low:.3f}s</text>')
    parts.append(f'<text x="{width - 60}" y="{height - 6}" font-size="10">{high:.3f}s</text>')
    parts.append(f'<text x="2" y="{top + 10}" font-size="10">{peak}</text>')
    parts.append("</svg>")
    return "".join(parts)


# ---------------------------------------------------------------- HTML

_CSS = """
body{font-family:system-ui,sans-serif;margin:24px;color:#0f172a}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #cbd5e1;padding:4px 6px;vertical-align:top}
th{background:#f1f5f9}.pass{color:#15803d;font-weight:bold}.fail{color:#b91c1c;font-weight:bold}
.charts{display:flex;flex-wrap:wrap;gap:12px}pre{white-space:pre-wrap;margin:0;max-width:520px}
.quote{color:#475569;font-size:12px}.ids{font-family:monospace;font-size:12px}
"""


def _ids(ids: list[str]) -> str:
    return '<span class="ids">' + "<br>".join(escape(i) for i in ids) + "</span>" if ids else "—"


def _question_rows(report: Any) -> str:
    baseline_by_id = [{q.record.id: q for q in run.questions} for run in report.baselines]
    rows = []
    for q in report.primary.questions:
        s = q.score
        verdict = '<span class="pass">pass</span>' if s.passed else '<span class="fail">fail</span>'
        question = escape(q.record.question)
        if q.record.history:
            question = "".join(f'<div class="quote">{escape(t.role)}: {escape(t.content)}</div>'
                               for t in q.record.history) + question
        answer = f"<pre>{escape(q.answer.answer)}</pre>"
        if s.refused:
            answer = "<b>[refused]</b> " + answer
        if s.error:
            answer = f'<span class="fail">{escape(s.error)}</span>'
        citations = "".join(
            f'<div><span class="ids">[{c.n}] {escape(c.id)}</span>'
            f'{" <b>fabricated</b>" if c.id in s.fabricated else ""}'
            f'{" <b>quote not verbatim</b>" if c.id in s.unfaithful_quotes else ""}'
            f'<div class="quote">{escape(c.quote)}</div></div>'
            for c in q.answer.citations) or "—"
        facts = "<br>".join(" / ".join(escape(a) for a in alts) for alts in q.record.key_facts)
        missed = "<br>".join(" / ".join(escape(a) for a in alts) for alts in s.key_facts_missed)
        baselines = "<br>".join(
            f'{escape(run.name)}: ' + ('<span class="pass">pass</span>' if by_id[q.record.id].score.passed
                                       else '<span class="fail">fail</span>')
            for run, by_id in zip(report.baselines, baseline_by_id) if q.record.id in by_id)
        rows.append(
            f"<tr><td class=ids>{escape(q.record.id)}</td><td>{escape(q.record.lang)}</td><td>{verdict}</td>"
            f"<td>{question}</td><td>{answer}</td><td>{citations}</td>"
            f"<td>{_ids(q.record.gold) if q.record.answerable else '<i>unanswerable</i>'}</td>"
            f"<td>{facts or '—'}{'<div class=fail>missed: ' + missed + '</div>' if missed else ''}</td>"
            f"<td>{_ids(q.ranked_ids[:5])}</td><td>{baselines or '—'}</td></tr>")
    return "".join(rows)


def write_html(report: Any, path: Path, failures: list[str] | None = None) -> Path:
    systems = report.systems
    charts = "".join(
        bar_chart_svg(metric, [(run.name, run.metrics["overall"].get(metric)) for run in systems])
        for metric in HEADLINE_METRICS)
    histograms = "".join(
        histogram_svg(f"latency: {run.name}",
                      [q.score.latency_s for q in run.questions if q.score.latency_s is not None],
                      color=PALETTE[i % len(PALETTE)])
        for i, run in enumerate(systems))
    metric_rows = "".join(
        f"<tr><td>{escape(m)}</td>" + "".join(f"<td>{escape(_fmt(run.metrics['overall'].get(m)))}</td>" for run in systems)
        + "".join(f"<td>{escape(_fmt(report.primary.metrics[split].get(m)))}</td>" for split in ("vi", "en")) + "</tr>"
        for m in TABLE_METRICS)
    if failures is None:
        gate = ""
    elif failures:
        gate = '<h2 class="fail">Threshold failures</h2><ul>' + "".join(f"<li>{escape(f)}</li>" for f in failures) + "</ul>"
    else:
        gate = '<h2 class="pass">All thresholds met</h2>'
    header_cells = "".join(f"<th>{escape(run.name)}</th>" for run in systems)
    primary = escape(report.primary.name)
    html = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>directive-qa evaluation</title><style>{_CSS}</style></head>
<body><h1>directive-qa evaluation</h1>
<p>{escape(report.created)} — datasets: {escape(", ".join(report.datasets))}</p>
{gate}
<h2>Headline metrics</h2><div class="charts">{charts}</div>
<h2>Latency</h2><div class="charts">{histograms}</div>
<h2>All metrics (overall; {primary} also by language)</h2>
<table><tr><th>metric</th>{header_cells}<th>{primary} vi</th><th>{primary} en</th></tr>{metric_rows}</table>
<h2>Questions ({primary})</h2>
<table id="questions"><tr><th>id</th><th>lang</th><th>result</th><th>question</th><th>answer</th>
<th>citations (quotes)</th><th>gold</th><th>key facts</th><th>top ranked</th><th>baselines</th></tr>
{_question_rows(report)}</table>
</body></html>
"""
    path.write_text(html, encoding="utf-8")
    return path


def write_reports(report: Any, out_dir: str | Path, failures: list[str] | None = None) -> list[Path]:
    """report.json, report.md and report.html under out_dir (created if needed)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [write_json(report, out / "report.json", failures),
            write_markdown(report, out / "report.md", failures),
            write_html(report, out / "report.html", failures)]
