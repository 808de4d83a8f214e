"""Realistic provider answers, modelled on each provider's documented response shapes.

The OpenAI and Anthropic ones are checked against the official SDKs' response types in
``test_parsing.py``, so a fixture that drifts from the real shape fails there.
"""

from __future__ import annotations

from typing import Any

CHAT_COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-abc123",
    "object": "chat.completion",
    "created": 1741570283,
    "model": "gpt-4.1-mini-2025-04-14",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "Paris is sunny.",
                "refusal": None,
                "annotations": [],
                "tool_calls": [
                    {
                        "id": "call_a",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    },
                    {
                        "id": "call_b",
                        "type": "function",
                        "function": {"name": "get_time", "arguments": '{"zone": "CET"'},
                    },
                ],
            },
            "logprobs": {
                "content": [
                    {
                        "token": "Paris",
                        "logprob": -0.01,
                        "bytes": [80, 97, 114, 105, 115],
                        "top_logprobs": [],
                    }
                ],
                "refusal": None,
            },
            "finish_reason": "tool_calls",
        }
    ],
    "usage": {
        "prompt_tokens": 1200,
        "completion_tokens": 50,
        "total_tokens": 1250,
        "prompt_tokens_details": {
            "cached_tokens": 1024,
            "audio_tokens": 0,
            "cache_write_tokens": 0,
        },
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    },
    "service_tier": "default",
    "system_fingerprint": "fp_1",
}

RESPONSE: dict[str, Any] = {
    "id": "resp_123",
    "object": "response",
    "created_at": 1741476542,
    "status": "completed",
    "error": None,
    "incomplete_details": None,
    "instructions": None,
    "max_output_tokens": None,
    "model": "gpt-5",
    "output": [
        {
            "type": "reasoning",
            "id": "rs_1",
            "summary": [{"type": "summary_text", "text": "Look up the weather."}],
            "encrypted_content": "gAAAAenc",
        },
        {
            "type": "message",
            "id": "msg_1",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Checking.", "annotations": []}],
        },
        {
            "type": "function_call",
            "id": "fc_1",
            "call_id": "call_w",
            "name": "get_weather",
            "arguments": '{"city": "Oslo"}',
            "status": "completed",
        },
    ],
    "parallel_tool_calls": True,
    "temperature": 1.0,
    "tool_choice": "auto",
    "tools": [],
    "top_p": 1.0,
    "usage": {
        "input_tokens": 500,
        "input_tokens_details": {"cached_tokens": 100, "cache_write_tokens": 50},
        "output_tokens": 80,
        "output_tokens_details": {"reasoning_tokens": 64},
        "total_tokens": 580,
    },
}

RESPONSE_QUEUED: dict[str, Any] = {
    **RESPONSE,
    "id": "resp_bg",
    "status": "queued",
    "output": [],
    "usage": None,
}

RESPONSE_FAILED: dict[str, Any] = {
    **RESPONSE,
    "status": "failed",
    "output": [],
    "usage": None,
    "error": {"code": "server_error", "message": "The model failed to generate a response."},
}

ANTHROPIC_MESSAGE: dict[str, Any] = {
    "id": "msg_01XFD",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5-20250929",
    "content": [
        {"type": "thinking", "thinking": "The user wants weather.", "signature": "EqQBCkYI"},
        {"type": "redacted_thinking", "data": "EmwKAhgB"},
        {"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Rome"}},
        {"type": "tool_use", "id": "toolu_2", "name": "get_time", "input": {"zone": "CET"}},
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 20,
        "output_tokens": 100,
        "cache_creation_input_tokens": 1000,
        "cache_read_input_tokens": 3000,
    },
}

ANTHROPIC_OVERLOADED: dict[str, Any] = {
    "type": "error",
    "error": {"type": "overloaded_error", "message": "Overloaded"},
}

ANTHROPIC_TOO_LONG: dict[str, Any] = {
    "type": "error",
    "error": {
        "type": "invalid_request_error",
        "message": "prompt is too long: 210000 tokens > 200000 maximum",
    },
}

GEMINI_RESPONSE: dict[str, Any] = {
    "candidates": [
        {
            "content": {
                "role": "model",
                "parts": [
                    {
                        "text": "Thinking about the weather.",
                        "thought": True,
                        "thoughtSignature": "c2ln",
                    },
                    {"text": "It is sunny in Lima."},
                    {
                        "functionCall": {"name": "get_weather", "args": {"city": "Lima"}},
                        "thoughtSignature": "Zm4=",
                    },
                ],
            },
            "finishReason": "STOP",
            "index": 0,
        }
    ],
    "usageMetadata": {
        "promptTokenCount": 400,
        "candidatesTokenCount": 30,
        "thoughtsTokenCount": 70,
        "cachedContentTokenCount": 300,
        "totalTokenCount": 500,
    },
    "modelVersion": "gemini-2.5-flash",
    "responseId": "gem-resp-1",
}

GEMINI_BLOCKED: dict[str, Any] = {
    "promptFeedback": {"blockReason": "SAFETY", "safetyRatings": []},
    "usageMetadata": {"promptTokenCount": 10, "totalTokenCount": 10},
}

GEMINI_429: dict[str, Any] = {
    "error": {
        "code": 429,
        "message": "Resource has been exhausted (e.g. check quota).",
        "status": "RESOURCE_EXHAUSTED",
        "details": [
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "31s"},
        ],
    }
}

OPENAI_RATE_LIMIT: dict[str, Any] = {
    "error": {
        "message": "Rate limit reached for gpt-4.1-mini on tokens per min (TPM).",
        "type": "tokens",
        "param": None,
        "code": "rate_limit_exceeded",
    }
}

OPENAI_QUOTA: dict[str, Any] = {
    "error": {
        "message": "You exceeded your current quota.",
        "type": "insufficient_quota",
        "param": None,
        "code": "insufficient_quota",
    }
}

OPENAI_CONTEXT: dict[str, Any] = {
    "error": {
        "message": "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.",
        "type": "invalid_request_error",
        "param": "messages",
        "code": "context_length_exceeded",
    }
}

OPENAI_BAD_KEY: dict[str, Any] = {
    "error": {
        "message": "Incorrect API key provided: sk-abc***.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
}

EMBEDDINGS: dict[str, Any] = {
    "object": "list",
    "data": [
        {"object": "embedding", "index": 1, "embedding": [0.3, 0.4]},
        {"object": "embedding", "index": 0, "embedding": [0.1, 0.2]},
    ],
    "model": "text-embedding-3-small",
    "usage": {"prompt_tokens": 8, "total_tokens": 8},
}
