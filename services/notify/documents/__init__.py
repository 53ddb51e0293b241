"""Legal documents of the case: every notice and decision the law gives, rendered from Jinja2 templates
in the jurisdiction's languages as HTML, plain text (the e-mail body) and PDF.

    from services.notify.documents import document_number, render_html, render_pdf, render_text

The input is ``shared.contracts.documents.DocumentData``; see the README section "Legal documents".
"""

from services.notify.documents.numbering import KIND_CODES, DocumentNumber, document_number, parse_document_number
from services.notify.documents.render import DocumentNotApplicable, legal_bases, render_html, render_pdf, render_text

__all__ = [
    "KIND_CODES",
    "DocumentNotApplicable",
    "DocumentNumber",
    "document_number",
    "legal_bases",
    "parse_document_number",
    "render_html",
    "render_pdf",
    "render_text",
]
