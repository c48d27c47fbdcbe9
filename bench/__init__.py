"""Benchmarks of the chat dock on the real stack (``make bench``, ``python -m bench``)."""
