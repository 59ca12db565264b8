"""Shared library of the commerce platform.

Libraries never run and applications are never imported: every project (the
gateway and the five services) depends on this package, and on nothing of each
other. It carries the defaults; each project's settings are a small delta.
"""
