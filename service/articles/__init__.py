"""LawNet-style article drafting (`drafting`) and its renderers (`rendering`)."""
from service.articles.drafting import draft_article
from service.articles.model import Article, ArticleParagraph, ArticleRequest
from service.articles.rendering import render, render_docx, render_html, render_markdown

__all__ = ["Article", "ArticleParagraph", "ArticleRequest", "draft_article", "render",
           "render_docx", "render_html", "render_markdown"]
