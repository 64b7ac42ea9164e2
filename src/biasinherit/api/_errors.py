"""A config built from keyword arguments that fails validation, as one user error naming the
keyword (the command line shows the same error with the keyword's flag)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

from biasinherit.errors import BiasInheritError

__all__ = ["keyword_errors"]


@contextlib.contextmanager
def keyword_errors(renames: Mapping[str, str] | None = None) -> Iterator[None]:
    """Turn a pydantic ``ValidationError`` into a :class:`BiasInheritError` whose field is the
    keyword argument (``renames`` maps config field names to keywords where they differ)."""
    from pydantic import ValidationError

    try:
        yield
    except ValidationError as exc:
        from biasinherit.validation_messages import error_message

        err = exc.errors()[0]
        name = ".".join(str(p) for p in err["loc"])
        raise BiasInheritError(error_message(err), field=(renames or {}).get(name, name)) from None
