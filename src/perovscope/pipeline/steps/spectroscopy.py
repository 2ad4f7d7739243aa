"""Step ``edx``: EDX quantification of every frame and the AlCl₃ reaction layer at the cathode.

* **Maps.** The spectrum image is binned ``bin`` × ``bin`` (counts summed, so Poisson statistics are
  kept), optionally denoised by a rank-``pca`` PCA (channels scaled by the Poisson sd of the mean
  spectrum), fitted with every element of the session (line families + Kramers background) and
  quantified by thin-foil Cliff–Lorimer over all of them
  (:func:`perovscope.spectroscopy.maps.edx_quantify_map`). ``cl_fraction`` = Cl/(Cl+Br) (atoms).
* **AlCl₃.** A layer thinner than a pixel is measured by the amount of Cl on top of the Al, not by a
  width: the Cl Kα and Al Kα net counts of the *unbinned* map (unconstrained linear fit: a
  non-negative fit biases the few Cl counts of Cl-free pixels upwards) go to
  :func:`perovscope.interfaces.reaction_layer_thickness`, with the Al/Cl sensitivity per atom from the
  same thin-foil generation model as the default k-factors
  (:func:`perovscope.spectroscopy.xray_generation.line_sensitivity`).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ...calibrations import pixel_length_nm, required_attr
from ...errors import InputError
from ...interfaces import reaction_layer_thickness
from ...spectroscopy.decomposition import denoise_pca
from ...spectroscopy.edx import edx_model, fit_edx, quantification_family
from ...spectroscopy.maps import edx_quantify_map
from ...spectroscopy.xray_generation import line_sensitivity
from ...spectroscopy.xray_lines import ATOMIC_WEIGHTS
from ._common import finish_dataset, read_frame

_KV_OPTION = "beam_energy_keV = KV under [modality.eds.calibration] in session.toml"
_PX_OPTION = "pixel_size_nm = NM under [modality.eds.calibration] in session.toml"

__all__ = ["DEFAULTS", "frame", "atomic_percent_std", "alcl3_thickness"]

DEFAULTS = {"elements": None, "bin": 2, "pca": 0, "alcl3": True, "alcl3_margin_px": 3}


def _elements(ctx, da) -> list[str]:
    els = ctx.params.get("elements") or da.attrs.get("elements")
    if not els:
        raise InputError("edx: the EDX file lists no elements; set [analysis.edx] elements = [...]")
    return [str(e) for e in els]


def atomic_percent_std(ds: xr.Dataset) -> xr.DataArray:
    """Standard uncertainty of ``atomic_percent`` from ``net_counts_std`` (delta method).

    With ``u_i = k_i I_i / A_i`` and ``at_i = 100 u_i / Σu``, independent line counts give
    ``var(at_i) = 100² [(1 - f_i)² s_i² + f_i² Σ_{j≠i} s_j²]``, ``f = u/Σu``, ``s_j = σ(u_j)/Σu``.
    """
    at = ds["atomic_percent"]
    q = list(ds.attrs["quantified"])
    k = ds.attrs["k_factors"]
    conv = xr.DataArray([k[e] / ATOMIC_WEIGHTS[e] if e in q else np.nan for e in at["element"].values],
                        dims="element", coords={"element": at["element"]})
    u = (ds["net_counts"].clip(min=0) * conv)
    total = u.sum("element", skipna=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = u / total
        s = ds["net_counts_std"] * conv / total
    s2 = (s ** 2).sum("element", skipna=True)
    var = (1 - f) ** 2 * s ** 2 + f ** 2 * (s2 - s ** 2)
    return (100 * np.sqrt(var)).where(np.isfinite(at)).assign_attrs(units="at.%")


def _ratio_std(a, sa, b, sb):
    """sd of a/(a+b) for independent a, b."""
    with np.errstate(invalid="ignore", divide="ignore"):
        tot = a + b
        return np.sqrt((b * sa) ** 2 + (a * sb) ** 2) / tot ** 2


def alcl3_thickness(da: xr.DataArray, elements, *, margin_px: int = 3) -> tuple[float, float]:
    """AlCl₃ thickness (nm) and its standard error from one unbinned EDX frame ``(y, x, energy)``.

    Cl Kα and Al Kα net counts by an unconstrained linear fit, the Al/Cl sensitivity per atom from
    the thin-foil model; rows run towards the cathode (Al in the last rows).
    """
    e = np.asarray(da["energy"].values, float)
    kv = required_attr(da, "beam_energy_keV", option=_KV_OPTION)
    m = edx_model(e, elements, beam_energy_keV=kv)
    m = m._replace(nonneg=np.zeros_like(m.nonneg))
    net = fit_edx(np.asarray(da.values, float), e, elements, model=m).net_counts
    fam = {el: quantification_family(el, float(e.max()), beam_energy_keV=kv) for el in ("Al", "Cl")}
    ratio = (line_sensitivity("Al", fam["Al"], beam_energy_keV=kv)
             / line_sensitivity("Cl", fam["Cl"], beam_energy_keV=kv))
    px = pixel_length_nm(abs(float(da["y"].values[1] - da["y"].values[0])), da["y"].attrs.get("units"),
                         where=f"{da.name or 'eds'} (y)", option=_PX_OPTION)
    res = reaction_layer_thickness(net[..., elements.index("Cl")], net[..., elements.index("Al")],
                                   pixel_size_nm=px, sensitivity_ratio=ratio, margin_px=margin_px)
    return float(res.mean_nm), float(res.sem_nm)


def _binned(da: xr.DataArray, b: int) -> xr.DataArray:
    if b <= 1:
        return da
    ny, nx = (da.sizes["y"] // b) * b, (da.sizes["x"] // b) * b
    out = da.isel(y=slice(0, ny), x=slice(0, nx)).coarsen(y=b, x=b).sum()
    out = out.assign_coords(y=da["y"][:ny].coarsen(y=b).mean(), x=da["x"][:nx].coarsen(x=b).mean())
    for d in ("y", "x"):
        out[d].attrs = dict(da[d].attrs)
    out.attrs = dict(da.attrs)
    return out


def frame(ctx, index: int, prepared: dict) -> xr.Dataset:
    """Quantified EDX maps of one frame and its AlCl₃ thickness.

    Returns
    -------
    xarray.Dataset
        ``atomic_percent`` (+``_std``), ``net_counts`` (+``_std``) over ``(y, x, element)`` on the
        binned grid; ``cl_fraction`` (+``_std``) over ``(y, x)``; scalars ``alcl3_thickness_nm``
        (+``_std``). ``attrs["bin"]`` gives the binning (the grid's affine is that of the raw map
        composed with the binning, see :func:`._common.binned_affine`).
    """
    p = ctx.params
    raw = read_frame(ctx, "eds", index)
    els = _elements(ctx, raw)
    b = int(p["bin"])
    data = _binned(raw, b)
    if int(p["pca"]) > 0:
        data = data.copy(data=denoise_pca(data.values, n_components=int(p["pca"]), pixel_normalise=False))
    kv = required_attr(data, "beam_energy_keV", option=_KV_OPTION)
    q = edx_quantify_map(data, els, beam_energy_keV=kv)
    out = q[["atomic_percent", "net_counts", "net_counts_std"]].transpose("y", "x", "element")
    out["atomic_percent_std"] = atomic_percent_std(q).transpose("y", "x", "element")
    at, nc, sd = q["atomic_percent"], q["net_counts"], q["net_counts_std"]
    if "Cl" in els and "Br" in els:
        cl, br = at.sel(element="Cl"), at.sel(element="Br")
        with np.errstate(invalid="ignore", divide="ignore"):
            out["cl_fraction"] = (cl / (cl + br)).assign_attrs(units="1", long_name="Cl/(Cl+Br), atoms")
        rel = lambda el: sd.sel(element=el) / nc.sel(element=el).where(nc.sel(element=el) > 0)  # noqa: E731
        out["cl_fraction_std"] = _ratio_std(cl, cl * rel("Cl"), br, br * rel("Br")).assign_attrs(units="1")
    if p["alcl3"] and "Cl" in els and "Al" in els:
        mean, sem = alcl3_thickness(raw, els, margin_px=int(p["alcl3_margin_px"]))
        out["alcl3_thickness_nm"] = ((), mean, {"units": "nm"})
        out["alcl3_thickness_nm_std"] = ((), sem, {"units": "nm"})
    out = out.drop_vars([c for c in out.coords if c not in out.dims])
    out.attrs.update({k: q.attrs[k] for k in ("quant_lines", "k_factors", "quantified", "beam_energy_keV")})
    out.attrs.update(bin=b, pca=int(p["pca"]))
    return finish_dataset(out, step="edx")
