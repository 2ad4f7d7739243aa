"""Every bad session input gives exit status 2 and one line naming the TOML key (with its line) and file.

Each case edits a fresh copy of the tiny simulated session; after the error nothing that looks like a
result (``results/``, ``provenance.json``) may exist.
"""

from __future__ import annotations

import re

import pytest

from perovscope.cli import main


def _edit(toml, old, new):
    text = toml.read_text()
    assert old in text, old
    toml.write_text(text.replace(old, new, 1))


def _rewrite(path, sig):
    """Write a signal dict read by RosettaSciIO back as HyperSpy file (the writer's required keys)."""
    from rsciio.hspy import file_writer

    path.unlink()
    for key in ("tmp_parameters", "learning_results", "models"):
        sig.setdefault(key, {})
    sig.setdefault("attributes", {"_lazy": False})
    sig.setdefault("package_info", {"name": "perovscope", "version": "test"})
    file_writer(str(path), sig, show_progressbar=False)


def _strip_timestamp(path):
    from rsciio.hspy import file_reader

    sig = file_reader(str(path))[0]
    sig["metadata"]["General"].pop("date", None)
    sig["metadata"]["General"].pop("time", None)
    _rewrite(path, sig)


def _reshape_frame(path):
    from rsciio.hspy import file_reader

    sig = file_reader(str(path))[0]
    sig["data"] = sig["data"][:-2]
    sig["axes"][0]["size"] -= 2
    _rewrite(path, sig)


def _log_rows(toml, transform):
    log = toml.parent / "bias_log.csv"
    lines = log.read_text().splitlines()
    head = [i for i, line in enumerate(lines) if line.startswith("t_s")][0] + 1
    lines[head:] = transform(lines[head:])
    log.write_text("\n".join(lines) + "\n")


CASES = {
    "unknown key": (lambda t: _edit(t, 'clock = "metadata"', 'clok = "metadata"'),
                    r"session\.toml:\d+: \[modality\.4dstem\] clok: unknown key 'clok'; "
                    r"did you mean 'clock'\?"),
    "unknown table": (lambda t: _edit(t, "[analysis.strain]", "[analysis.strian]"),
                      r"session\.toml:\d+: \[analysis\] strian: unknown key 'strian'; "
                      r"did you mean 'strain'\?"),
    "wrong type": (lambda t: _edit(t, "offset_s = 0.0", 'offset_s = "soon"'),
                   r"session\.toml:\d+: \[modality\.4dstem\] offset_s: must be a number"),
    "no file matches": (lambda t: _edit(t, '"eds/frame_*.hspy"', '"edx/frame_*.hspy"'),
                        r"session\.toml:\d+: \[modality\.eds\] files: no file matches 'edx/frame_\*\.hspy'"),
    "missing file": (lambda t: _edit(t, '"eds/frame_*.hspy"', '["eds/frame_000.hspy", "eds/nope.hspy"]'),
                     r"session\.toml:\d+: \[modality\.eds\] files: .*nope\.hspy: no such file"),
    "unreadable file": (lambda t: (t.parent / "haadf" / "frame_001.hspy").write_bytes(b"not hdf5" * 64),
                        r"session\.toml:\d+: \[modality\.haadf\] files: .*frame_001\.hspy"),
    "frame counts differ": (lambda t: (t.parent / "eds" / "frame_002.hspy").unlink(),
                            r"session\.toml:\d+: \[modality\.\w+\] files: frame counts differ .*eds: 2"),
    "shape changes": (lambda t: _reshape_frame(t.parent / "haadf" / "frame_002.hspy"),
                      r"session\.toml:\d+: \[modality\.haadf\] files: .*frame_002\.hspy has shape"),
    "no timestamp": (lambda t: _strip_timestamp(t.parent / "eds" / "frame_001.hspy"),
                     r"session\.toml:\d+: \[modality\.eds\] clock: .*frame_001\.hspy has no acquisition "
                     r"time.*clock = \"period\""),
    "log column missing": (lambda t: _edit(t, 'current = "I_nA"', 'current = "I_A"'),
                           r"session\.toml:\d+: \[bias_log\] current: column 'I_A' is not in bias_log\.csv "
                           r"\(columns: t_s, U_mV, I_nA, EL_counts\)"),
    "log unit unknown": (lambda t: _edit(t, 'voltage = "mV"', 'voltage = "mVolt"'),
                         r"session\.toml:\d+: \[bias_log\.units\] voltage: .*mVolt"),
    "log unsorted": (lambda t: _log_rows(t, lambda rows: [rows[1], rows[0], *rows[2:]]),
                     r"session\.toml:\d+: \[bias_log\] time: bias_log\.csv row 2: .* out of order"),
    "log duplicated": (lambda t: _log_rows(t, lambda rows: [rows[0], rows[0], *rows[1:]]),
                       r"session\.toml:\d+: \[bias_log\] time: bias_log\.csv row 2: .* duplicated"),
    "log missing time": (lambda t: _log_rows(t, lambda rows: [rows[0], "," + rows[1].split(",", 1)[1],
                                                              *rows[2:]]),
                         r"session\.toml:\d+: \[bias_log\] time: bias_log\.csv row 2 has no time"),
    "bad clock": (lambda t: _edit(t, 'clock = "metadata"', 'clock = "wall"'),
                  r"session\.toml:\d+: \[modality\.4dstem\] clock: 'wall' is not a clock"),
    "not toml": (lambda t: _edit(t, "[session]", "[session"), r"session\.toml: not valid TOML"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_exit_2_one_line_naming_the_key(case, tiny_session, capsys):
    break_it, pattern = CASES[case]
    break_it(tiny_session)
    status = main(["run", str(tiny_session), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert len(err.splitlines()) == 1, err
    assert re.search(pattern, err), err
    line = re.search(r"session\.toml:(\d+):", err)
    if line:                                              # the line number points at the named key
        key = re.search(r"\] (\w+)", err)
        named = tiny_session.read_text().splitlines()[int(line.group(1)) - 1]
        assert key is None or key.group(1) in named or "[" in named, (err, named)
    out = tiny_session.parent / "results"
    assert not (out / "provenance.json").exists() and not (out / "results.zarr").exists()
    assert main(["run", "--check", str(tiny_session)]) == 2


def test_check_validates_without_writing(tiny_session, capsys):
    assert main(["run", "--check", str(tiny_session)]) == 0
    assert "OK" in capsys.readouterr().out
    assert not (tiny_session.parent / "results").exists()
