"""Packaging tests: the built wheel, installed alone in a fresh venv."""
