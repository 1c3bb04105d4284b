"""HTML of a report: one self-contained page (inline CSS, images inlined as data URIs, each
also linked to its PNG beside the page), written with the standard library only.

Every number that comes from ``metrics.jsonl`` is shown with 4 decimals and carries its source
in ``data-*`` attributes (``data-run``, ``data-split`` or ``data-line``, ``data-metric``), so a
reader, or a test in a real browser, can check each one against the file.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#0f172a;
background:#f8fafc}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;border-bottom:2px solid
#e2e8f0;padding-bottom:4px}h3{font-size:15px;margin:20px 0 6px;color:#334155}
.meta{color:#64748b;font-size:12px}
table{border-collapse:collapse;margin:6px 0 12px;background:#fff;font-size:13px}
th,td{border:1px solid #e2e8f0;padding:3px 8px;text-align:right}
th{background:#f1f5f9}td.l,th.l{text-align:left}
img{max-width:100%;height:auto;background:#fff;border:1px solid #e2e8f0;margin:4px 0}
.note{background:#fffbeb;border:1px solid #fde68a;padding:8px 12px;border-radius:4px}
.best{font-weight:600;color:#15803d}
details{margin:8px 0}
"""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def fmt(value: Any) -> str:
    """How every number appears on the page: floats with 4 decimals, ints as they are."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.4f}"
    return "" if value is None else str(value)


def attrs(**data: Any) -> str:
    return "".join(f' data-{k.replace("_", "-")}="{esc(v)}"' for k, v in data.items()
                   if v is not None)


def table(header: Sequence[str], rows: Iterable[Sequence[str]], left: int = 1,
          cls: str = "") -> str:
    """``rows`` hold ready HTML cells (``<td>...</td>``); header cells are escaped."""
    head = "".join(f'<th class="l">{esc(h)}</th>' if i < left else f"<th>{esc(h)}</th>"
                   for i, h in enumerate(header))
    body = "".join(f"<tr>{''.join(r)}</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def td(value: Any, left: bool = False, cls: str = "", **data: Any) -> str:
    classes = " ".join(c for c in ("l" if left else "", cls) if c)
    klass = f' class="{classes}"' if classes else ""
    return f"<td{klass}{attrs(**data)}>{esc(fmt(value))}</td>"


def image(path: Path, alt: str) -> str:
    """The PNG inlined (the page works when moved alone) and linked to the file beside it."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f'<a href="{esc(path.name)}"><img src="data:image/png;base64,{data}" '
            f'alt="{esc(alt)}" data-file="{esc(path.name)}"></a>')


def note(text: str) -> str:
    return f'<p class="note">{esc(text)}</p>'


def page(title: str, subtitle: str, sections: Iterable[str]) -> str:
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body><main>"
            f'<h1>{esc(title)}</h1><p class="meta">{esc(subtitle)}</p>'
            f"{''.join(sections)}</main></body></html>\n")
