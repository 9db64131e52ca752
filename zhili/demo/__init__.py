"""The deterministic demo town "清溪镇（演示）": ``builder.build_demo`` is the entry point.

Modules: ``spec`` (sizes, seed, reference date), ``catalog`` (names and vocabulary),
``names`` (personal names, phones), ``codes`` (ID numbers, credit codes), ``geometry``
(layout in metres, lon/lat output), ``buildings`` (what each village builds), ``population``
(families and personal attributes), ``division`` and ``residents`` (rows of one village),
``cleanup`` (finding and deleting demo data), ``context`` (state shared while building).
"""
