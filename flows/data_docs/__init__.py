"""Great Expectations Data Docs that render without a network (flows/data_docs/offline.py)."""

from flows.data_docs.offline import make_offline, remote_references

__all__ = ["make_offline", "remote_references"]
