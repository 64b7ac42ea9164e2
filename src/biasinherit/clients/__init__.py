"""Clients of remote model servers, below the generators and the evaluation backends that use them.

``openai``: an OpenAI-compatible server (:class:`OpenAIClient`, :class:`RequestFailed`);
``retry``: backoff and ``Retry-After`` timing; ``event_loop``: :func:`run_to_completion`, which
lets a synchronous API run its coroutine inside Jupyter too. Nothing here imports from
``biasinherit.generators`` or ``biasinherit.models``: they depend on it, never the reverse.
"""

from biasinherit.clients.event_loop import run_to_completion
from biasinherit.clients.openai import DEFAULT_BASE_URL, Completion, OpenAIClient, OpenAISession, RequestFailed
from biasinherit.clients.retry import backoff_delay, parse_retry_after

__all__ = [
    "DEFAULT_BASE_URL",
    "Completion",
    "OpenAIClient",
    "OpenAISession",
    "RequestFailed",
    "backoff_delay",
    "parse_retry_after",
    "run_to_completion",
]
