"""Benchmarks of the platform's two hot paths: the gateway's proxying and the event
bus. `python -m bench` runs them all; `python -m bench gateway` or `bus` runs one.
Each prints a Markdown table of its figures; none asserts on a timing."""
