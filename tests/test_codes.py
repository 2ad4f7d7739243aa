"""One code table: every area's flag and reason constants are members of perovscope.codes.Code."""

import numpy as np

from perovscope.codes import Code, flag_attrs, names


def test_each_number_means_one_thing_across_areas():
    from perovscope.diffraction import REASONS
    from perovscope.spectroscopy import bad_pixel_mask, cl, fitting
    from perovscope.spectroscopy._common import BAD_REASONS

    assert (fitting.FLAG_OK, fitting.FLAG_MAX_ITER, fitting.FLAG_FAILED, fitting.FLAG_MASKED) == (
        Code.OK, Code.MAX_ITER, Code.FIT_FAILED, Code.MASKED)
    assert cl.FLAG_NO_PEAK == Code.NO_PEAK
    assert REASONS == {"ok": 0, "vacuum": 8, "amorphous": 9, "too_few_disks": 10, "not_indexed": 11,
                       "fit_failed": 2}
    assert {Code(k).name for k in BAD_REASONS} == {"OK", "NON_FINITE", "ALL_ZERO", "NEGATIVE_TOTAL"}
    # the bad-pixel screen returns those codes
    spectra = np.array([[1.0, 2.0], [np.nan, 1.0], [0.0, 0.0], [-3.0, 1.0]])
    assert bad_pixel_mask(spectra).tolist() == [Code.OK, Code.NON_FINITE, Code.ALL_ZERO, Code.NEGATIVE_TOTAL]


def test_flag_attributes():
    assert names([Code.OK, Code.VACUUM]) == {"ok": 0, "vacuum": 8}
    assert flag_attrs([Code.OK, Code.NO_PEAK]) == {"flag_values": [0, 4], "flag_meanings": "ok no_peak"}
    assert len({int(c) for c in Code}) == len(Code)
