"""Tables of the report as HTML (correlations) and as plain rows for the template."""

from __future__ import annotations

import math

import numpy as np
from markupsafe import Markup, escape

__all__ = ["correlation_rows", "correlations_table", "format_number"]


def format_number(value, *, digits: int = 4) -> str:
    """A store value as text: ``digits`` significant digits, integers as integers, ``"–"`` for NaN."""
    if value is None:
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(v):
        return "–"
    if v == int(v) and abs(v) < 1e5:
        return str(int(v))
    return f"{v:.{digits}g}"


def correlation_rows(correlations) -> list[dict]:
    """One dict per row of the ``correlations`` group, values formatted for display."""
    if correlations is None or "quantity" not in correlations:
        return []
    n = correlations.sizes.get("row", len(np.atleast_1d(correlations["quantity"].values)))
    cols = {k: np.atleast_1d(correlations[k].values) for k in
            ("quantity", "against", "rho", "rho_low", "rho_high", "lag_frames", "lag_rho", "n")
            if k in correlations}
    rows = []
    for i in range(n):

        def get(k, i=i):
            return cols[k][i] if k in cols else None

        rows.append({
            "quantity": str(get("quantity")),
            "against": str(get("against")),
            "rho": format_number(get("rho"), digits=3),
            "interval": (f"[{format_number(get('rho_low'), digits=3)}, "
                         f"{format_number(get('rho_high'), digits=3)}]"),
            "lag_frames": format_number(get("lag_frames")),
            "lag_rho": format_number(get("lag_rho"), digits=3),
            "n": format_number(get("n")),
            "strong": bool(get("rho") is not None and np.isfinite(float(get("rho")))
                           and abs(float(get("rho"))) >= 0.7),
        })
    return rows


def correlations_table(correlations) -> Markup:
    """The ``correlations`` group as an HTML ``<table>`` (Spearman ρ with its 95 % interval, lag)."""
    rows = correlation_rows(correlations)
    if not rows:
        return Markup("<p class='missing'>No correlations in this session.</p>")
    head = ("<table class='data'><thead><tr><th>quantity</th><th>against</th><th>ρ</th>"
            "<th>95 % interval</th><th>best lag (frames)</th><th>ρ at lag</th><th>n</th></tr></thead><tbody>")
    body = []
    for r in rows:
        cls = " class='strong'" if r["strong"] else ""
        body.append(f"<tr{cls}><td>{escape(r['quantity'])}</td><td>{escape(r['against'])}</td>"
                    f"<td class='num'>{escape(r['rho'])}</td><td class='num'>{escape(r['interval'])}</td>"
                    f"<td class='num'>{escape(r['lag_frames'])}</td>"
                    f"<td class='num'>{escape(r['lag_rho'])}</td>"
                    f"<td class='num'>{escape(r['n'])}</td></tr>")
    return Markup(head + "".join(body) + "</tbody></table>")
