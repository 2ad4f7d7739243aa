"""SAXS figure: log–log I(q) with the Guinier plot inset, the Porod plot q⁴I(q), the size distribution."""

from __future__ import annotations

import numpy as np

from .._style import PAGE_IN, QUALITATIVE, label, message_figure, new_figure, styled

__all__ = ["saxs_figure"]


def _rows(ds, name):
    v = ds[name]
    return v.transpose(..., *[d for d in v.dims if d in ("q", "radius")]).values.reshape(-1, v.shape[-1])


def _flat(ds, name):
    return np.asarray(ds[name].values, dtype=float).reshape(-1)


@styled
def saxs_figure(ds, *, max_curves: int = 6):
    """Three panels for the curves of :func:`perovscope.bulk.saxs_xr.saxs_analysis`.

    (a) I(q) on log–log axes (points, error bars where σ is known), the Guinier range marked; inset:
    ln I against q² with the Guinier line. (b) Porod plot q⁴I(q) with the fitted K q⁻⁴e^(−σ²q²) + B
    (times q⁴) over the Porod range. (c) Volume-weighted size distribution with its bootstrap band.

    Parameters
    ----------
    ds : xarray.Dataset
        Output of :func:`saxs_analysis`.
    max_curves : int
        Curves drawn (evenly chosen from the batch).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if "intensity" not in ds or "q" not in ds.dims:
        return message_figure("no SAXS curves to draw")
    q = ds.q.values
    qunit = str(ds.q.attrs.get("units", "1/Å"))
    y = _rows(ds, "intensity")
    names = (np.asarray(ds.curve.values).astype(str).reshape(-1) if "curve" in ds.coords
             else np.array([f"curve {i + 1}" for i in range(y.shape[0])]))
    pick = np.unique(np.linspace(0, y.shape[0] - 1, min(max_curves, y.shape[0])).round().astype(int))
    rg, i0 = _flat(ds, "guinier_rg"), _flat(ds, "guinier_i0")
    qlo, qhi = _flat(ds, "guinier_q_min"), _flat(ds, "guinier_q_max")
    has_sizes = "volume_fraction" in ds
    fig = new_figure(PAGE_IN, 2.4)
    axes = fig.subplots(1, 3 if has_sizes else 2)
    a, b = axes[0], axes[1]
    inset = a.inset_axes([0.08, 0.08, 0.42, 0.42])
    k = _flat(ds, "porod_porod_constant")
    bg = _flat(ds, "porod_background")
    s2 = _flat(ds, "porod_sigma2")
    pq0, pq1 = float(ds.attrs.get("porod_q_min", q[0])), float(ds.attrs.get("porod_q_max", q[-1]))
    for n, i in enumerate(pick):
        c = QUALITATIVE[n % len(QUALITATIVE)]
        pos = y[i] > 0
        a.plot(q[pos], y[i][pos], ".", ms=1.5, color=c, alpha=0.6, mew=0, label=names[i])
        if np.isfinite(rg[i]):
            g = (q >= qlo[i]) & (q <= qhi[i])
            a.plot(q[g], i0[i] * np.exp(-(q[g] * rg[i]) ** 2 / 3), "-", color="k", lw=0.8)
            sel = q <= 1.6 * qhi[i]
            ok = sel & pos
            inset.plot(q[ok] ** 2, np.log(y[i][ok]), ".", ms=1.2, color=c, mew=0)
            inset.plot(q[g] ** 2, np.log(i0[i]) - (q[g] * rg[i]) ** 2 / 3, "-", color="k", lw=0.7)
        b.plot(q, y[i] * q ** 4, ".", ms=1.5, color=c, alpha=0.6, mew=0)
        if np.isfinite(k[i]):
            qp = q[(q >= pq0) & (q <= pq1)]
            model = k[i] * np.exp(-s2[i] * qp ** 2) + bg[i] * qp ** 4
            b.plot(qp, model, "-", color="k", lw=0.8)
            b.axhline(k[i], color=c, lw=0.5, ls=":")
    a.set_xscale("log")
    a.set_yscale("log")
    a.set_xlabel(label("q", qunit))
    a.set_ylabel(label("I(q)", str(ds.intensity.attrs.get("units", "a.u."))))
    rgs = _flat(ds, "guinier_rg_std")[pick[0]]
    length = qunit.replace("1/", "")
    a.set_title(f"(a) Guinier Rg = {rg[pick[0]]:.4g} ± {rgs:.2g} {length}", loc="left", pad=9)
    inset.set_title("ln I vs q²", fontsize=5, pad=1.5)
    inset.tick_params(labelsize=4, length=1.5, pad=1)
    if len(pick) > 1:
        a.legend(loc="upper right", fontsize=5)
    b.set_xlabel(label("q", qunit))
    iunit = str(ds.intensity.attrs.get("units", "a.u."))
    b.set_ylabel(label("q⁴ I(q)", "a.u." if iunit == "a.u." else f"{iunit}·{qunit}⁴"))
    b.axvspan(pq0, pq1, color="0.92", zorder=0)
    b.set_title("(b) Porod plot (K dotted)", loc="left", pad=9)
    if has_sizes:
        cax = axes[2]
        r = ds.radius.values
        phi, err = _rows(ds, "volume_fraction"), _rows(ds, "volume_fraction_std")
        for n, i in enumerate(pick):
            c = QUALITATIVE[n % len(QUALITATIVE)]
            cax.plot(r, phi[i], "-", color=c, lw=0.9)
            e = np.where(np.isfinite(err[i]), err[i], 0.0)
            cax.fill_between(r, np.maximum(phi[i] - e, 0), phi[i] + e, color=c, alpha=0.25, lw=0)
        cax.set_xscale("log")
        cax.set_xlabel(label("sphere radius R", length))
        cax.set_ylabel(label("volume fraction per bin", "a.u."))
        vm = _flat(ds, "size_volume_mean_radius")[pick[0]]
        cax.set_title(f"(c) volume-weighted mean R = {vm:.3g} {length}", loc="left", pad=9)
    return fig
