"""Impedance spectra: equivalent-circuit fits, R_DC from the arc, conductivity and an Arrhenius fit.

Each FILE (CSV, EC-Lab .mpt, Gamry .DTA, ZPlot .z) is one spectrum. Spectra sharing their
frequencies are fitted together in one batched fit. With ``--thickness`` and ``--area`` the
conductivity σ = l/(R_DC·A) is computed from the low-frequency intercept of the arc; with a
temperature per file (``--temperature``) and at least three files, σT is fitted against 1/T for the
activation energy.

Examples::

    perovscope bulk impedance cell.csv --circuit "R0-p(R1,C1)-p(R2-Wo1,C2)"
    perovscope bulk impedance T*.z --circuit "p(R1,CPE1)-CPE2" --thickness 0.7 --area 2 \\
        --temperature 50 80 110 140 170 200
"""

from __future__ import annotations

HELP = "impedance: circuit fits (auto start values), R_DC from the arc, σ = l/(R·A), Arrhenius Ea"


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="impedance spectra (one per file)")
    parser.add_argument("--circuit", default="R0-p(R1,CPE1)",
                        help="circuit string, e.g. \"R0-p(R1,C1)-p(R2-Wo1,C2)\", or randles, randles-cpe, "
                             "rc, rcpe, 2rc, 2rcpe (default R0-p(R1,CPE1)); 'none' skips the fit")
    parser.add_argument("--weighting", choices=("modulus", "unit"), default="modulus",
                        help="residuals divided by |Z| (default) or absolute")
    parser.add_argument("--assignment", default=None, metavar="I,J,...",
                        help="arc (0 = fastest) for each R-C block as written, or 'written'; default: "
                             "the assignment closest to the data")
    parser.add_argument("--keep-inductive", action="store_true",
                        help="keep points with Z'' > 0 (dropped by default unless the circuit has an L)")
    parser.add_argument("--thickness", type=float, default=None, metavar="MM", help="sample thickness (mm)")
    parser.add_argument("--area", type=float, default=None, metavar="MM2", help="electrode area (mm²)")
    parser.add_argument("--temperature", type=float, nargs="+", default=None, metavar="T",
                        help="one temperature per file, in file order")
    parser.add_argument("--temperature-unit", choices=("C", "K"), default="C", help="unit of --temperature")


def _load(args):
    from pathlib import Path

    from ...errors import InputError
    from ...io.impedance_files import read_impedance

    spectra = [read_impedance(Path(f)) for f in args.files]
    temps = args.temperature
    if temps is not None and len(temps) != len(spectra):
        raise InputError(f"--temperature gives {len(temps)} values for {len(spectra)} files; "
                         "give one per file")
    if temps is None and all("temperature_C" in s.attrs for s in spectra):
        temps = [float(s.attrs["temperature_C"]) for s in spectra]
        args.temperature_unit = "C"
    return spectra, temps


def _groups(spectra):
    import numpy as np

    groups: list[list[int]] = []
    for i, s in enumerate(spectra):
        f = s.frequency.values
        for g in groups:
            f0 = spectra[g[0]].frequency.values
            if f0.shape == f.shape and np.allclose(f0, f, rtol=1e-9):
                g.append(i)
                break
        else:
            groups.append([i])
    return groups


def _assignment(text):
    if text is None or text == "written":
        return text
    from ...errors import InputError

    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"--assignment {text!r} must be 'written' or comma-separated integers, "
                         "e.g. 1,0") from None


def analyse(args):
    import numpy as np
    import xarray as xr

    from ...bulk.impedance import fit_circuit
    from ...bulk.impedance_conductivity import arc_intercepts, arrhenius_fit, conductivity, to_kelvin
    from ...errors import InputError
    from ._common import BulkOutcome

    spectra, temps = _load(args)
    names = [str(s.attrs["source"]).rsplit("/", 1)[-1] for s in spectra]
    n = len(spectra)
    circuit = None if args.circuit.strip().lower() == "none" else args.circuit
    notes = []
    fits = [None] * n
    arcs = [None] * n
    for group in _groups(spectra):
        f = spectra[group[0]].frequency.values
        z = np.stack([spectra[i].values for i in group])
        src = names[group[0]] if len(group) == 1 else f"{len(group)} spectra"
        if circuit is not None:
            fit = fit_circuit(f, z, circuit, weighting=args.weighting,
                              assignment=_assignment(args.assignment),
                              exclude_inductive=False if args.keep_inductive else None, source=src)
            for k, i in enumerate(group):
                fits[i] = (fit, k)
        arc = arc_intercepts(f, z, source=src)
        for k, i in enumerate(group):
            arcs[i] = (arc, k)
    r_dc = np.array([a.r_dc[k] for a, k in arcs])
    want_sigma = args.thickness is not None or args.area is not None
    want_arrhenius = temps is not None and n >= 3
    if want_arrhenius and not want_sigma:
        raise InputError("an Arrhenius fit of σT needs the conductivity: give the sample geometry with "
                         "--thickness MM and --area MM2")
    sigma = conductivity(np.where(np.isfinite(r_dc), r_dc, np.inf), thickness_mm=args.thickness,
                         area_mm2=args.area) if want_sigma else np.full(n, np.nan)
    if want_sigma:
        sigma = np.where(np.isfinite(r_dc), sigma, np.nan)
    cols: dict = {"file": names}
    units = {"file": ""}
    if temps is not None:
        cols["temperature_K"] = list(to_kelvin(temps, args.temperature_unit))
        units["temperature_K"] = "K"
    if circuit is not None:
        fit0 = fits[0][0]
        for j, (pn, pu) in enumerate(zip(fit0.names, fit0.units, strict=False)):
            cols[pn] = [fits[i][0].params[fits[i][1], j] for i in range(n)]
            cols[f"{pn}_std"] = [fits[i][0].std[fits[i][1], j] for i in range(n)]
            units[pn] = units[f"{pn}_std"] = pu
        cols["chi2_reduced"] = [fits[i][0].chi2_reduced[fits[i][1]] for i in range(n)]
        units["chi2_reduced"] = "1"
        bad = [names[i] for i in range(n) if fits[i][0].flag[fits[i][1]] >= 2]
        if bad:
            notes.append(f"circuit fit failed for {', '.join(bad)}")
    cols["R_dc_arc"] = list(r_dc)
    units["R_dc_arc"] = "Ohm"
    if np.any(~np.isfinite(r_dc)):
        notes.append("no arc found (no interior maximum of -Z'') in: "
                     + ", ".join(names[i] for i in range(n) if not np.isfinite(r_dc[i])))
    if want_sigma:
        cols["sigma"] = list(sigma)
        units["sigma"] = "S/cm"
    arr = None
    if want_arrhenius:
        ok = np.isfinite(sigma)
        if ok.sum() < 3:
            raise InputError(f"only {int(ok.sum())} spectra gave an arc intercept; an Arrhenius fit needs 3")
        tk = np.asarray(cols["temperature_K"])[ok]
        order = np.argsort(tk)
        arr = arrhenius_fit(tk[order], sigma[ok][order], unit="K")
        notes.append(f"Arrhenius: Ea = {float(arr.ea_ev):.4g} ± {float(arr.ea_std_ev):.2g} eV "
                     f"(ln σ0T = {float(arr.ln_prefactor):.4g}, R² = {float(arr.r_squared):.4f})")
        for key in ("Ea", "Ea_std"):
            cols[key] = [float(arr.ea_ev if key == "Ea" else arr.ea_std_ev)] * n
            units[key] = "eV"
    table = xr.Dataset({k: xr.DataArray(np.asarray(v), dims="row", attrs={"units": units[k]})
                        for k, v in cols.items()})
    results = _results(spectra, names, fits, table, arr)

    def figure():
        from ...report.bulk.impedance import impedance_figure

        return impedance_figure(results)

    return BulkOutcome(table=table, results=results, figure=figure, notes=notes)


def _results(spectra, names, fits, table, arr):
    import numpy as np
    import xarray as xr

    children = {}
    for i, s in enumerate(spectra):
        ds = xr.Dataset({"impedance": xr.DataArray(s.values, dims="frequency", attrs={"units": "Ohm"})},
                        coords={"frequency": ("frequency", s.frequency.values, {"units": "Hz"})})
        ds.attrs = {k: v for k, v in s.attrs.items() if isinstance(v, (str, int, float))}
        if fits[i] is not None:
            fit, k = fits[i]
            zfit = fit.impedance(s.frequency.values)[k]
            ds["impedance_fit"] = xr.DataArray(zfit, dims="frequency", attrs={"units": "Ohm"})
            ds.attrs["circuit"] = fit.circuit
        ds.attrs["label"] = names[i]
        children[f"spectrum_{i:03d}"] = ds
    children["table"] = table
    if arr is not None:
        children["arrhenius"] = xr.Dataset({
            "Ea": xr.DataArray(np.asarray(arr.ea_ev), attrs={"units": "eV"}),
            "Ea_std": xr.DataArray(np.asarray(arr.ea_std_ev), attrs={"units": "eV"}),
            "ln_prefactor": xr.DataArray(np.asarray(arr.ln_prefactor), attrs={"units": "ln(S K/cm)"}),
            "r_squared": xr.DataArray(np.asarray(arr.r_squared), attrs={"units": "1"})})
    return xr.DataTree.from_dict(children)
