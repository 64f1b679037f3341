"""vLLM's exception classes (vllm/exceptions.py): the same names, bases and text (message, then the
parameter and value in parentheses), so a test's expected text is the real engine's."""


class VLLMError(Exception):
    pass


class VLLMClientError(VLLMError):
    pass


class VLLMValidationError(VLLMClientError):
    def __init__(self, message: str, *, parameter: str | None = None, value=None):
        super().__init__(message)
        self.parameter, self.value = parameter, value

    def __str__(self):
        named = [
            f"{k}={v}" for k, v in (("parameter", self.parameter), ("value", self.value)) if v is not None
        ]
        text = super().__str__()
        return f"{text} ({', '.join(named)})" if named else text
