"""Bruker ``.bcf`` reading with a bounds-checked hypermap parser by default.

RosettaSciIO decodes the packed Bruker hypermap with a compiled (Cython) parser that does not check
its indices: a single damaged byte can make it write outside its array and crash the interpreter. By
default perovscope asks RosettaSciIO's reader objects to use its pure-Python/numpy parser instead,
whose out-of-range accesses raise ordinary exceptions (reported as
:class:`~perovscope.errors.FormatError`). It is 10–20× slower (about 0.05 s for a 64×64 map,
0.2 s for a dense 30×30 map on one core); ``read(path, fast=True)`` selects the compiled parser for
trusted files.
"""

from __future__ import annotations

import math

__all__ = ["file_reader"]


def _checked_reader_class():
    from rsciio.bruker._api import BCF_reader, SFS_reader, py_parse_hypermap

    class CheckedBCF(BCF_reader):
        """BCF_reader whose hypermap parsing uses the bounds-checked Python parser."""

        def parse_hypermap(self, index=None, downsample=1, cutoff_at_kV=None, lazy=False):
            index = self.def_index if index is None else index
            spectra = self.header.spectra_data[index]
            if isinstance(cutoff_at_kV, int | float) and not isinstance(cutoff_at_kV, bool):
                channels = spectra.energy_to_channel(cutoff_at_kV)
            elif cutoff_at_kV == "zealous":
                channels = spectra.last_non_zero_channel() + 1
            elif cutoff_at_kV == "auto":
                channels = self.header.get_consistent_min_channels(index=index)
            else:
                channels = spectra.data.size
            shape = (math.ceil(self.header.image.height / downsample),
                     math.ceil(self.header.image.width / downsample), channels)
            dtype = self.header.estimate_map_depth(index=index, downsample=downsample, for_numpy=True)
            handle = SFS_reader.get_file(self, f"EDSDatabase/SpectrumData{index}")
            return py_parse_hypermap(handle, shape, dtype, downsample=downsample)

    return CheckedBCF


def _check_map_size(obj, filename, index, downsample) -> None:
    """The hypermap the header declares must fit the bound for its packed stream (before allocation)."""
    from rsciio.bruker._api import SFS_reader

    from ..errors import FormatError
    from ._bounds import max_decoded_bytes

    indices = range(len(obj.header.spectra_data)) if index == "all" else [
        obj.def_index if index is None else index]
    for i in indices:
        spectra = obj.header.spectra_data[i]
        height = math.ceil(obj.header.image.height / max(int(downsample or 1), 1))
        width = math.ceil(obj.header.image.width / max(int(downsample or 1), 1))
        declared = height * width * int(spectra.data.size) * 4  # at most 32-bit counts
        stream = SFS_reader.get_file(obj, f"EDSDatabase/SpectrumData{i}")
        if declared > max_decoded_bytes("bruker", int(stream.size)):
            raise FormatError(f"{filename}: the header declares a {height} x {width} x {spectra.data.size} "
                              f"hypermap but its packed stream has {stream.size} bytes; the file is corrupt")


def file_reader(filename, lazy=False, select_type=None, index=None, downsample=1, cutoff_at_kV=None,
                instrument=None, fast=False):
    """Read a ``.bcf`` like ``rsciio.bruker.file_reader``; ``fast=True`` uses the compiled parser.

    ``lazy`` is accepted for signature compatibility; hypermaps are decoded at read time so that a
    damaged file fails here rather than later inside a dask computation.
    """
    from rsciio.bruker._api import BCF_reader, bcf_hyperspectra, bcf_images

    cls = BCF_reader if fast else _checked_reader_class()
    obj = cls(str(filename), instrument=instrument)
    if select_type != "image":
        _check_map_size(obj, filename, index, downsample)
    images = [] if select_type == "spectrum_image" else bcf_images(obj)
    spectra = [] if select_type == "image" else bcf_hyperspectra(
        obj, index=index, downsample=downsample, cutoff_at_kV=cutoff_at_kV, lazy=False)
    return images + spectra
