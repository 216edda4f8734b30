"""The one error type of signal ingestion: what the HTTP layer turns into a 4xx JSON reply."""

from __future__ import annotations


class IngestError(Exception):
    """A refused request: HTTP `status`, machine-readable `code`, the offending `field` (dotted) and a sentence."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field

    def as_json(self) -> dict:
        return {"error": self.code, "field": self.field, "message": self.message}


def invalid(field: str, message: str) -> IngestError:
    """400: the request is malformed or a value has the wrong shape."""
    return IngestError(400, "invalid", message, field)


def unknown(field: str, message: str) -> IngestError:
    """422: well-formed, but names something warroom does not know."""
    return IngestError(422, "unknown", message, field)
