from . import request  # noqa: F401
