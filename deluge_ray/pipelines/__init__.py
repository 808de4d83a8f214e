"""Ready-made pipelines on top of :class:`~deluge_ray.LLMClient`.

* :func:`extract` / :func:`extract_async`: structured extraction into a pydantic model or
  JSON schema from text, images or files; a malformed answer is an error entry.
* :func:`translate` / :func:`translate_async`: non-English texts to English (offline
  language detection), returning a new list.
* :func:`score_llm`: yes/no judgments, or the probability of "yes" from logprobs.

    >>> from deluge_ray.pipelines import detect_language
    >>> detect_language("Der Hund ist nicht hier und ich bin sehr müde.")
    'de'
"""

from ._extract import extraction_prompt, parse_extraction
from ._language import detect_language, is_english
from ._score import score_llm, score_llm_async, yes_probability

# Imported through the public submodules of the same names: importing a submodule binds
# its name on the package, so ``extract`` / ``translate`` must be rebound to the functions
# after the submodules load, or ``deluge_ray.pipelines.extract`` would be the module.
from .extract import extract, extract_async
from .translate import translate, translate_async

__all__ = [
    "detect_language",
    "extract",
    "extract_async",
    "extraction_prompt",
    "is_english",
    "parse_extraction",
    "score_llm",
    "score_llm_async",
    "translate",
    "translate_async",
    "yes_probability",
]
