"""PLQY figure: the excitation-window spectra (A1, B1, C1) and the emission-window spectra (B2, C2)
with the integration windows shaded and the absorptance and PLQY of each set."""

from __future__ import annotations

import numpy as np

from .._style import PAGE_IN, QUALITATIVE, new_figure, styled

__all__ = ["plqy_figure"]

_COLOURS = {"A1": QUALITATIVE[7], "B1": QUALITATIVE[0], "C1": QUALITATIVE[5], "A2": QUALITATIVE[7],
            "B2": QUALITATIVE[0], "C2": QUALITATIVE[5]}
_LABELS = {"A": "empty sphere", "B": "sample off beam", "C": "sample in beam"}


@styled
def plqy_figure(results):
    """Left: excitation window (log scale: the laser line and what the sample leaves of it); right:
    emission window; the first set's spectra, the windows shaded, absorptance and PLQY annotated."""
    root = results.to_dataset()
    sets = [str(s) for s in root["set"].values]
    first = sets[0]
    fig = new_figure(PAGE_IN, 2.4)
    ax_ex, ax_em = fig.subplots(1, 2)
    ex = [float(v) for v in root.attrs.get("excitation_nm", [np.nan, np.nan])]
    em = [float(v) for v in root.attrs.get("emission_nm", [np.nan, np.nan])]
    spectra = results["spectra"] if "spectra" in results.children else {}
    for key in sorted(spectra.children if spectra else []):
        node = spectra[key].to_dataset()
        if str(node.attrs.get("set")) != first:
            continue
        role = str(node.attrs["role"])
        lam, counts = node["wavelength"].values, node["counts"].values
        ax = ax_ex if role.endswith("1") else ax_em
        label = f"{role}: {_LABELS[role[0]]}"
        if ax is ax_ex:
            pos = counts > 0
            ax.semilogy(lam[pos], counts[pos], "-", lw=0.9, marker=".", ms=2, color=_COLOURS[role],
                        label=label)
        else:
            ax.plot(lam, counts, lw=0.6, color=_COLOURS[role], label=label, alpha=0.85)
    for ax, win in ((ax_ex, ex), (ax_em, em)):
        if np.all(np.isfinite(win)):
            ax.axvspan(win[0], win[1], color="0.85", alpha=0.5, lw=0, zorder=0)
        ax.set_xlabel("wavelength (nm)")
        ax.legend(fontsize=5.5, loc="upper right")
    ax_ex.set_ylabel("counts (log scale)")
    ax_em.set_ylabel("counts")
    ax_em.axhline(0, color="0.5", lw=0.5)
    i = 0
    a, a_sd = float(root["absorptance"].values[i]), float(root["absorptance_std"].values[i])
    q, q_sd = 100 * float(root["plqy"].values[i]), 100 * float(root["plqy_std"].values[i])
    text = f"set {first}\nabsorptance {a:.4f} ± {a_sd:.4f}\nPLQY {q:.1f} ± {q_sd:.1f} %"
    ax_em.text(0.03, 0.95, text, transform=ax_em.transAxes, va="top", fontsize=6)
    ax_ex.set_title("excitation window", fontsize=6.5)
    ax_em.set_title("emission window", fontsize=6.5)
    return fig
