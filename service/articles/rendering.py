"""Article renderers: Markdown, self-contained printable HTML, and DOCX (python-docx)."""
from __future__ import annotations

import html
import io

from service.articles.drafting import MACHINE_NOTE, SOURCES_TITLE
from service.articles.model import Article, ArticleParagraph
from service.qa.render import one_line


def _markers(article: Article, paragraph: ArticleParagraph) -> list[int]:
    found = [article.marker(c) for c in paragraph.citations]
    return [n for n in found if n is not None]


def _note(article: Article, paragraph: ArticleParagraph) -> str:
    if paragraph.machine_translated:
        return MACHINE_NOTE[article.lang]
    return ""


def render_markdown(article: Article) -> str:
    lines: list[str] = []
    in_list = False
    for paragraph in article.paragraphs:
        marks = "".join(f"[{n}]" for n in _markers(article, paragraph))
        suffix = f" {marks}" if marks else ""
        text = one_line(paragraph.text) if paragraph.kind == "item" else paragraph.text
        if paragraph.kind == "item":
            note = _note(article, paragraph)
            body = f"_{text}_ _({note})_" if note else text
            indent = "  " * paragraph.level
            lines.append(f"{indent}- {body}{suffix}")
            in_list = True
            continue
        if in_list:
            lines.append("")
            in_list = False
        if paragraph.kind == "title":
            lines += [f"# {text}", ""]
        elif paragraph.kind == "asker":
            lines += [f"*{text}*", ""]
        elif paragraph.kind == "actor_heading":
            lines += [f"**{text}**{suffix}", ""]
        else:
            lines += [f"{text}{suffix}", ""]
    if in_list:
        lines.append("")
    if article.citations:
        lines += [f"## {SOURCES_TITLE[article.lang]}", ""]
        for c in article.citations:
            quote = one_line(c.quote)
            lines.append(f"{c.n}. `{c.id}` — {c.label}: “{quote}”")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


_CSS = """
body{font-family:Georgia,'Times New Roman',serif;max-width:46rem;margin:2rem auto;padding:0 1rem;
line-height:1.55;color:#111}
h1{font-size:1.5rem;line-height:1.3}h2{font-size:1.15rem;margin-top:2rem}
.asker{font-style:italic;color:#444}.heading{font-weight:bold;margin-bottom:.3rem}
sup a{text-decoration:none;color:#1a4f8b}.mt{font-style:italic}.note{color:#666;font-size:.9em}
ol.sources{font-size:.9rem}ol.sources blockquote{margin:.2rem 0 .6rem 1rem;color:#333}
code{font-size:.9em}ul.items li{margin:.3rem 0}ul.items li.point{list-style:circle}
@media print{body{margin:0;max-width:none;font-size:11pt}a{color:inherit}
h1,h2,.heading{page-break-after:avoid}li{page-break-inside:avoid}}
""".strip()


def render_html(article: Article) -> str:
    esc = html.escape
    lang = article.lang

    def sups(paragraph: ArticleParagraph) -> str:
        return "".join(f'<sup><a href="#src-{n}">[{n}]</a></sup>' for n in _markers(article, paragraph))

    body: list[str] = []
    in_list = False
    for paragraph in article.paragraphs:
        text = esc(paragraph.text)
        if paragraph.kind == "item":
            if not in_list:
                body.append('<ul class="items">')
                in_list = True
            note = _note(article, paragraph)
            content = (f'<span class="mt">{text}</span> <span class="note">({esc(note)})</span>'
                       if note else text)
            css = (f' class="point" style="margin-left:{1.5 * paragraph.level:g}rem"'
                   if paragraph.level else "")
            body.append(f"<li{css}>{content}{sups(paragraph)}</li>")
            continue
        if in_list:
            body.append("</ul>")
            in_list = False
        if paragraph.kind == "title":
            body.append(f"<h1>{text}</h1>")
        elif paragraph.kind == "asker":
            body.append(f'<p class="asker">{text}</p>')
        elif paragraph.kind == "actor_heading":
            body.append(f'<p class="heading">{text}{sups(paragraph)}</p>')
        else:
            body.append(f'<p class="{paragraph.kind}">{text}{sups(paragraph)}</p>')
    if in_list:
        body.append("</ul>")
    if article.citations:
        body.append(f'<h2 id="sources">{esc(SOURCES_TITLE[lang])}</h2>')
        body.append('<ol class="sources">')
        for c in article.citations:
            body.append(f'<li id="src-{c.n}"><code>{esc(c.id)}</code> — {esc(c.label)}'
                        f'<blockquote>{esc(c.quote)}</blockquote></li>')
        body.append("</ol>")
    markup = "\n".join(body)
    return (f'<!DOCTYPE html>\n<html lang="{esc(lang)}">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{esc(article.title)}</title>\n<style>\n{_CSS}\n</style>\n</head>\n"
            f"<body>\n<article>\n{markup}\n</article>\n</body>\n</html>\n")


def render_docx(article: Article) -> bytes:
    from docx import Document as DocxDocument
    from docx.shared import Pt

    doc = DocxDocument()
    doc.core_properties.title = article.title[:255]
    for paragraph in article.paragraphs:
        marks = "".join(f"[{n}]" for n in _markers(article, paragraph))
        if paragraph.kind == "title":
            doc.add_heading(paragraph.text, level=1)
            continue
        if paragraph.kind == "asker":
            doc.add_paragraph().add_run(paragraph.text).italic = True
            continue
        if paragraph.kind == "item":
            style = ("List Bullet", "List Bullet 2", "List Bullet 3")[min(paragraph.level, 2)]
            p = doc.add_paragraph(style=style)
            run = p.add_run(one_line(paragraph.text))
            if paragraph.machine_translated:
                run.italic = True
                p.add_run(f" ({MACHINE_NOTE[article.lang]})").italic = True
        else:
            p = doc.add_paragraph()
            run = p.add_run(paragraph.text)
            if paragraph.kind == "actor_heading":
                run.bold = True
        if marks:
            p.add_run(" " + marks).font.size = Pt(8)
    if article.citations:
        doc.add_heading(SOURCES_TITLE[article.lang], level=2)
        for c in article.citations:
            p = doc.add_paragraph(style="List Number")
            p.add_run(f"[{c.n}] {c.id} — {c.label}: ").bold = True
            p.add_run(f"“{one_line(c.quote)}”")
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def render(article: Article, fmt: str) -> str | bytes:
    """Dispatch on ArticleRequest.format: 'md' | 'html' | 'docx'."""
    if fmt == "md":
        return render_markdown(article)
    if fmt == "html":
        return render_html(article)
    if fmt == "docx":
        return render_docx(article)
    raise ValueError(f"Unknown article format {fmt!r}")
