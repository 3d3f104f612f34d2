"""The payment-status support bot as a web service (FastAPI, SSE, approvals, sessions): see README.md."""
