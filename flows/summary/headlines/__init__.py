"""Headline figures read from the published marts, one module per domain; `registry` lists them in order."""
