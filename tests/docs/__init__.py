"""The documentation stays true: its code blocks run in the tests."""
