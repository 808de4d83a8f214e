"""A local mock LLM provider: OpenAI, Anthropic, Gemini and Cohere wire formats, real limits.

Everything runs over real HTTP on 127.0.0.1, so tests, examples and dry runs exercise real
JSON, real SSE streams and real 429s::

    from deluge_ray.mock import Limits, MockConfig, MockProvider, Reply, use_mock

    with MockProvider(MockConfig(limits=Limits(rpm=600, tpm=100_000))) as mock:
        mock.script("gpt-4.1-mini", [Reply.tool_call("add", {"a": 1, "b": 2}), "3"])
        with use_mock(mock):          # *_BASE_URL and placeholder keys in os.environ
            ...                       # run a client against it
        print(mock.stats()["rate_limited"])

From the command line: ``python -m deluge_ray.mock --rpm 600`` (or ``deluge-ray mock-server``).
"""

from ._behaviour import Reply, RequestView, ToolCallReply
from ._config import Faults, Latency, Limits, MockConfig
from ._limits import RateWindows
from ._server import MockProvider, use_mock

__all__ = [
    "Faults",
    "Latency",
    "Limits",
    "MockConfig",
    "MockProvider",
    "RateWindows",
    "Reply",
    "RequestView",
    "ToolCallReply",
    "use_mock",
]
