from typing import Any, TypedDict


class TokensPrompt(TypedDict, total=False):
    prompt_token_ids: list[int]
    multi_modal_data: Any
    mm_processor_kwargs: Any
    multi_modal_uuids: Any


class TextPrompt(TypedDict, total=False):
    prompt: str
    multi_modal_data: Any
    mm_processor_kwargs: Any
    multi_modal_uuids: Any
