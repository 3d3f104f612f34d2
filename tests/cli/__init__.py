"""Tests of the ``mistral-agents`` command line."""
