"""One module per bulk technique for ``perovscope bulk`` (see :mod:`perovscope.cli.bulk_cmd`)."""
