"""Impedance figures: Nyquist plot and Bode plots with the circuit fit, and the Arrhenius plot."""

from __future__ import annotations

import numpy as np

from .._style import PAGE_IN, QUALITATIVE, TIME_CMAP, new_figure, styled

__all__ = ["impedance_figure"]


def _spectra(results):
    return [results[k].to_dataset() for k in sorted(results.children) if k.startswith("spectrum_")]


def _colours(n, temps):
    if n <= 8 or temps is None:
        return [QUALITATIVE[i % 8] for i in range(n)]
    import matplotlib

    cmap = matplotlib.colormaps[TIME_CMAP]
    t = np.asarray(temps, dtype=float)
    span = np.ptp(t) or 1.0
    return [cmap((v - t.min()) / span) for v in t]


@styled
def impedance_figure(results):
    """Nyquist (−Z'' against Z', equal axes), Bode |Z| and phase against frequency, fits dashed; an
    Arrhenius panel (ln σT against 1000/T) when the results hold one.

    Parameters
    ----------
    results : xarray.DataTree
        From ``perovscope bulk impedance``: ``spectrum_NNN`` groups (``impedance``, optional
        ``impedance_fit`` over ``frequency``), ``table`` and optionally ``arrhenius``.
    """
    spectra = _spectra(results)
    table = results["table"].to_dataset() if "table" in results.children else None
    temps = table["temperature_K"].values if table is not None and "temperature_K" in table else None
    has_arr = "arrhenius" in results.children
    ncol = 4 if has_arr else 3
    fig = new_figure(PAGE_IN, 2.3)
    axes = fig.subplots(1, ncol, width_ratios=[1.3, 1, 1] + ([1] if has_arr else []))
    nyq, mod, phase = axes[:3]
    colours = _colours(len(spectra), temps)
    top = 0.0
    for i, (ds, col) in enumerate(zip(spectra, colours, strict=True)):
        f = ds["frequency"].values
        z = ds["impedance"].values
        top = max(top, float(np.max(-z.imag)))
        lab = str(ds.attrs.get("label", ""))
        if temps is not None and len(spectra) > 1:
            lab = f"{float(temps[i]) - 273.15:.0f} °C"
        nyq.plot(z.real, -z.imag, "o", ms=2.0, mfc="none", mew=0.6, color=col, label=lab)
        mod.loglog(f, np.abs(z), "o", ms=1.8, mfc="none", mew=0.5, color=col)
        phase.semilogx(f, -np.degrees(np.angle(z)), "o", ms=1.8, mfc="none", mew=0.5, color=col)
        if "impedance_fit" in ds:
            zf = ds["impedance_fit"].values
            fc = "black" if len(spectra) == 1 else col
            nyq.plot(zf.real, -zf.imag, "-", lw=0.8, color=fc)
            mod.loglog(f, np.abs(zf), "-", lw=0.8, color=fc)
            phase.semilogx(f, -np.degrees(np.angle(zf)), "-", lw=0.8, color=fc)
    if table is not None and "R_dc_arc" in table and len(spectra) <= 8:
        for r, col in zip(table["R_dc_arc"].values, colours, strict=False):
            if np.isfinite(r):
                nyq.plot([r], [0.0], marker="v", ms=4, color=col, zorder=5)
    lo = min(nyq.get_ylim()[0], -0.05 * top)
    nyq.set_ylim(lo if lo > -0.6 * top else -0.6 * top, 1.08 * top)
    nyq.set_aspect("equal", adjustable="box")
    nyq.set_xlabel("Z' (Ω)")
    nyq.set_ylabel("−Z'' (Ω)")
    nyq.axhline(0.0, color="0.7", lw=0.5, zorder=0)
    title = spectra[0].attrs.get("circuit", "") if spectra else ""
    nyq.set_title(f"Nyquist  {title}" if title else "Nyquist", fontsize=6.5)
    if len(spectra) <= 8:  # |Z| falls to the right: its upper right corner is free
        handles, labels = nyq.get_legend_handles_labels()
        mod.legend(handles, labels, loc="upper right", fontsize=5.0, handlelength=1.0)
    mod.set_xlabel("frequency (Hz)")
    mod.set_ylabel("|Z| (Ω)")
    phase.set_xlabel("frequency (Hz)")
    phase.set_ylabel("−phase (°)")
    if has_arr:
        ax = axes[3]
        arr = results["arrhenius"].to_dataset()
        tk = table["temperature_K"].values
        sig = table["sigma"].values
        ok = np.isfinite(sig)
        x = 1000.0 / tk[ok]
        y = np.log(sig[ok] * tk[ok])
        ax.plot(x, y, "o", ms=3, color=QUALITATIVE[0])
        ea = float(arr["Ea"])
        xx = np.linspace(x.min(), x.max(), 50)
        line = float(arr["ln_prefactor"]) - ea / 8.617333262e-5 * xx / 1000.0
        ax.plot(xx, line, "-", lw=0.8, color="black")
        ax.set_xlabel("1000/T (1/K)")
        ax.set_ylabel("ln(σT / S K cm⁻¹)")
        ax.set_title(f"Ea = {ea:.3g} ± {float(arr['Ea_std']):.1g} eV", fontsize=6.5)
    return fig
