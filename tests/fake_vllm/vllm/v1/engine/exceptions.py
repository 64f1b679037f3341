from ...exceptions import VLLMError


class EngineDeadError(VLLMError):
    pass
