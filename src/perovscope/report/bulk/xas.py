"""XAS figure: normalised μ(E) with E₀ marked (and the edge region inset), k-weighted χ(k), |χ(R)|."""

from __future__ import annotations

import numpy as np

from .._style import PAGE_IN, QUALITATIVE, label, message_figure, new_figure, styled

__all__ = ["xas_figure"]


_SUP = str.maketrans("0123456789-.", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻·")


def _sup(x) -> str:
    return f"{x:g}".translate(_SUP)


def _names(ds, n):
    lead = ds["e0"].dims
    if not lead:
        return ["spectrum"]
    c = lead[0]
    vals = np.asarray(ds[c].values).reshape(-1) if c in ds.coords else np.arange(n)
    return [str(v) for v in vals][:n] if len(lead) == 1 else [f"spectrum {i + 1}" for i in range(n)]


@styled
def xas_figure(ds, *, max_spectra: int = 6):
    """Three panels: flattened normalised μ(E) with E₀ (dashed) and the background (grey, scaled),
    χ(k)·kʷ with the Fourier window, and |χ(R)| with the first-shell peak marked.

    Parameters
    ----------
    ds : xarray.Dataset
        Output of :func:`perovscope.bulk.xas_xr.xas_dataset`.
    max_spectra : int
        Spectra drawn (evenly chosen from the batch).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if "norm" not in ds:
        return message_figure("no spectra to draw")
    lead = ds["e0"].dims
    n = int(np.prod([ds.sizes[d] for d in lead])) if lead else 1
    e = ds["energy"].values
    flat = ds["flat"].transpose(..., "energy").values.reshape(n, -1)
    bkg = ds["background"].transpose(..., "energy").values.reshape(n, -1)
    post = ds["post_edge"].transpose(..., "energy").values.reshape(n, -1)
    step = ds["edge_step"].values.reshape(n)
    e0 = ds["e0"].values.reshape(n)
    k = ds["k"].values
    chik = ds["chi_kw"].transpose(..., "k").values.reshape(n, -1)
    r = ds["r"].values
    mag = ds["chir_mag"].transpose(..., "r").values.reshape(n, -1)
    rpk = ds["r_first_shell"].values.reshape(n)
    names = _names(ds, n)
    pick = np.unique(np.linspace(0, n - 1, min(max_spectra, n)).round().astype(int))
    fig = new_figure(PAGE_IN, 2.3)
    a, b, c = fig.subplots(1, 3)
    for j, i in enumerate(pick):
        col = QUALITATIVE[j % 8]
        a.plot(e, flat[i], "-", lw=0.8, color=col)
        a.plot(e, (bkg[i] - post[i]) / step[i] + 1.0, "-", lw=0.5, color="0.6")  # flattened like μ
        a.axvline(e0[i], color=col, lw=0.6, ls="--")
        b.plot(k, chik[i], "-", lw=0.7, color=col)
        c.plot(r, mag[i], "-", lw=0.8, color=col, label=f"{names[i]}: {rpk[i]:.3f} Å")
        if np.isfinite(rpk[i]):
            c.axvline(rpk[i], color=col, lw=0.5, ls=":")
    a.set_xlabel(label("energy", "eV"))
    a.set_ylabel("normalised, flattened μ(E)")
    a.set_title("μ(E) (grey: background μ₀)")
    inset = a.inset_axes([0.45, 0.1, 0.52, 0.52])
    for j, i in enumerate(pick):
        sel = (e > e0[i] - 20) & (e < e0[i] + 40)
        inset.plot(e[sel], flat[i][sel], "-", lw=0.7, color=QUALITATIVE[j % 8])
        inset.axvline(e0[i], color=QUALITATIVE[j % 8], lw=0.5, ls="--")
    inset.tick_params(labelsize=4.5)
    inset.set_title("E₀ = " + ", ".join(f"{e0[i]:.2f}" for i in pick[:3]) + (" …" if pick.size > 3 else "")
                    + " eV", fontsize=5)
    kw = ds.attrs.get("kweight", 2)
    win = ds["k_window"].values
    top = np.nanmax(np.abs(chik[pick])) if np.isfinite(chik[pick]).any() else 1.0
    b.plot(k, win * top, "-", lw=0.5, color="0.6", label="window")
    b.set_xlabel(label("k", "Å⁻¹"))
    b.set_ylabel(label(f"χ(k)·k{_sup(kw)}", f"Å{_sup(-kw)}"))
    b.legend(loc="upper right", fontsize=5)
    b.set_title("EXAFS")
    c.set_xlim(0, 6)
    peak = np.nanmax(mag[pick][:, r <= 6]) if np.isfinite(mag[pick]).any() else 1.0
    c.set_ylim(0, 1.3 * peak)
    c.set_xlabel(label("R (not phase corrected)", "Å"))
    c.set_ylabel(label("|χ(R)|", f"Å{_sup(-(kw + 1))}"))
    c.legend(loc="upper right", fontsize=5, title="first-shell peak", title_fontsize=5)
    c.set_title("Fourier transform")
    return fig
