"""The end of a run as one data structure and two renderers.

`report.build_run_report` turns a RunSummary (and the published file's headline figures) into a
`RunReport` of plain facts and strings formatted for people; `terminal` prints it with Rich (what
`python -m flows run` shows), `markdown` writes it as Markdown (the Prefect artifact, `artifact`).
"""
