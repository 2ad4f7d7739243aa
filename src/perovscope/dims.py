"""Canonical dimension names, units and metadata keys: the one place they are defined.

Every signal in perovscope is an :class:`xarray.DataArray` whose dimensions are taken from the names
below, in numpy order ``(..., y, x)``. Coordinates carry physical calibrations with
``coord.attrs["units"]``; the array's own ``attrs["units"]`` gives the unit of the values (``counts``
for detector counts, which are never rescaled).

Acquisition metadata are normalised into the attribute names in :data:`METADATA_KEYS`; the file's
complete original metadata is kept as a JSON string under ``attrs["original_metadata"]``.
"""

from __future__ import annotations

TIME = "time"
SCAN_Y = "scan_y"
SCAN_X = "scan_x"
KY = "ky"
KX = "kx"
Y = "y"
X = "x"
ENERGY = "energy"
WAVELENGTH = "wavelength"
TWO_THETA = "two_theta"
ELEMENT = "element"

#: All canonical dimension names, in their canonical order.
CANONICAL_DIMS = (TIME, SCAN_Y, SCAN_X, KY, KX, Y, X, ENERGY, WAVELENGTH, TWO_THETA)

#: Default unit of each dimension's coordinate (readers convert to these where the file allows).
DEFAULT_UNITS = {
    TIME: "s",
    SCAN_Y: "nm",
    SCAN_X: "nm",
    KY: "1/nm",
    KX: "1/nm",
    Y: "nm",
    X: "nm",
    ENERGY: "eV",
    WAVELENGTH: "nm",
    TWO_THETA: "deg",
}

#: Signal kinds (``attrs["signal"]``).
SIGNAL_KINDS = (
    "4dstem", "haadf", "adf", "bf", "tem", "sem", "bse", "eds", "eels", "cl", "pl", "xrd",
    "element_map", "line_profile", "image", "spectrum", "map", "log",
)

#: Normalised acquisition-metadata attribute names and their meaning.
METADATA_KEYS = {
    "signal": "signal kind, one of SIGNAL_KINDS",
    "beam_energy_keV": "accelerating voltage, kV",
    "convergence_semiangle_mrad": "probe convergence semi-angle, mrad",
    "collection_semiangle_mrad": "spectrometer/detector collection semi-angle, mrad",
    "camera_length_mm": "camera length, mm",
    "dwell_time_s": "dwell time per probe position, s",
    "exposure_s": "exposure per frame or spectrum, s",
    "live_time_s": "EDX live time, s",
    "real_time_s": "EDX real time, s",
    "detector_elevation_deg": "X-ray detector elevation angle, degrees",
    "detector_azimuth_deg": "X-ray detector azimuth angle, degrees",
    "magnification": "nominal magnification",
    "acquired": "acquisition date-time, ISO 8601",
    "elements": "list of element symbols the file lists",
    "microscope": "instrument name",
    "dose_e_per_A2": "electron dose, e/Å²",
    "title": "signal title from the file",
    "source_file": "path of the file the signal was read from",
    "format": "reader/format name",
    "sample": "sample name from the file",
    "spectrometer": "spectrometer name",
    "central_wavelength_nm": "spectrometer central wavelength, nm",
    "grating_lines_per_mm": "spectrometer grating, lines/mm",
    "laser_wavelength_nm": "excitation laser wavelength, nm",
    "anode": "X-ray tube anode",
    "xray_wavelength_A": "X-ray Kα1 wavelength, Å",
}

#: Dimensions that index probe positions (navigation), in order.
NAVIGATION_DIMS = (TIME, SCAN_Y, SCAN_X)
