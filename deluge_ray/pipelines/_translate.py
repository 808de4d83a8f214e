"""Translation to English of the texts that are not English already."""

from __future__ import annotations

import asyncio

from ._common import PromptClient
from ._language import is_english

__all__ = ["TRANSLATION_PROMPT", "translate", "translate_async"]

TRANSLATION_PROMPT = (
    "Translate the following text (enclosed in ```) into English. Reply with only the "
    "translation, without the ``` marks or any comment.\n\n```\n{}\n```"
)


async def translate_async(
    texts: list[str], client: PromptClient, low_memory: bool = True
) -> list[str]:
    """A new list: each non-English text replaced by its English translation.

    The caller's list is not changed. Language detection is offline (writing system and
    stop words). A text whose translation failed is kept as it was. ``low_memory`` is
    accepted for 0.0.168 scripts (see :func:`is_english`).

        >>> await translate_async(["hello", "hola, ¿cómo estás?"], client)  # doctest: +SKIP
        ['hello', 'hello, how are you?']
    """
    result = list(texts)
    todo = [i for i, text in enumerate(result) if isinstance(text, str) and not is_english(text)]
    if not todo:
        return result
    prompts = [TRANSLATION_PROMPT.format(result[i]) for i in todo]
    responses = await client.process_prompts_async(prompts, show_progress=False)
    for index, response in zip(todo, responses, strict=True):
        completion = getattr(response, "completion", None)
        if completion and not getattr(response, "is_error", False):
            result[index] = completion.strip()
    return result


def translate(texts: list[str], client: PromptClient, low_memory: bool = True) -> list[str]:
    """:func:`translate_async` for synchronous code."""
    return asyncio.run(translate_async(texts, client, low_memory))
