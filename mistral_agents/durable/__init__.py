"""Durable runs on an existing engine (extra ``dbos``): ``from mistral_agents.durable import DBOSAgent``.

A run becomes a DBOS workflow; each model call and each tool call is a step whose output is checkpointed, so a
process killed mid-run finishes the run when DBOS is launched again, without repeating completed steps.
Importing this package imports ``dbos``; ``import mistral_agents`` never does.
"""

from .dbos import DBOSAgent, DepsRef, DurableHandle

__all__ = ["DBOSAgent", "DepsRef", "DurableHandle"]
