"""A judge is data: a YAML spec plus a Jinja2 template that renders its chat messages.

    name: alpacaeval2
    template: alpacaeval2.jinja        # blocks named after roles, in order: system, user (, assistant_1 ...)
    protocol: alpacaeval               # how order, labels and verdicts become a preference
    parser: logprob_labels
    labels: [m, M]
    model: gpt-4-1106-preview          # default judge model; --model overrides
    backend: openai
    base_url: https://api.openai.com/v1
    decoding: {max_tokens: 1, temperature: 1.0, logprobs: true, top_logprobs: 5}
    price: {input_per_mtok: 10.0, output_per_mtok: 30.0}   # USD per million tokens
    max_parse_retries: 2

Instructions and outputs reach the template only as variables of a sandboxed Jinja2 environment,
rendered once: a candidate's text can never change the template (it is never template source).
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import jinja2.sandbox
import yaml

from judgebench.errors import ConfigError
from judgebench.settings import MAX_SEED, TEMPERATURE_RANGE, TOP_P_RANGE, Option

# The built-in judges: package data in a wheel; in a checkout, a link to the top-level prompts/ (their source).
PACKAGE_PROMPTS = Path(__file__).resolve().parents[1] / "prompts"


def prompts_dir() -> Path:
    return Path(os.environ.get("JUDGEBENCH_PROMPTS", PACKAGE_PROMPTS))


@dataclass
class JudgeSpec:
    name: str
    protocol: str
    parser: str
    template_source: str
    model: str
    backend: str = "openai"
    base_url: str | None = None
    labels: tuple[str, ...] = ("m", "M")
    decoding: dict = field(default_factory=dict)
    price: dict = field(default_factory=dict)
    max_parse_retries: int = 2
    parser_kwargs: dict = field(default_factory=dict)
    source: str = ""  # where it was loaded from, for the manifest
    render_fn: Callable[..., list[dict]] | None = (
        None  # set for judges whose template is not Jinja2 (alpaca_eval configs)
    )

    @property
    def hash(self) -> str:
        """Everything about the judge that can change a verdict, except the model and decoding
        (those enter each call's key on their own)."""
        blob = "\x00".join(
            [
                self.protocol,
                self.parser,
                self.template_source,
                repr(self.labels),
                repr(sorted(self.parser_kwargs.items())),
            ]
        )
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]

    def render(self, **variables) -> list[dict]:
        if self.render_fn is not None:
            return self.render_fn(**variables)
        template = _compiled(self.template_source, self.source)
        # a template may copy its inputs a few times, never make megabytes of its own
        budget = MAX_TEMPLATE_OUTPUT + 4 * sum(len(str(v)) for v in variables.values())
        token = _RANGE_LEFT.set(MAX_RANGE_ITEMS)
        try:
            context = template.new_context({"labels": self.labels, **variables})
            messages = []
            for block, render_block in template.blocks.items():
                role = block.split("_")[0]
                if role not in ("system", "user", "assistant"):
                    continue
                parts = []
                for piece in render_block(context):
                    budget -= len(piece)
                    if budget < 0:
                        raise jinja2.sandbox.SecurityError(
                            f"the rendered prompt exceeds {MAX_TEMPLATE_OUTPUT:,} "
                            "characters beyond its inputs"
                        )
                    parts.append(piece)
                content = "".join(parts).strip()
                if content:
                    messages.append({"role": role, "content": content})
            return messages
        except (
            jinja2.TemplateError,
            ArithmeticError,
            ValueError,
            TypeError,
            MemoryError,
            RecursionError,
        ) as err:
            raise ConfigError(
                f"{self.source or self.name}: field 'template': rendering failed: "
                f"{type(err).__name__}: {err} -> fix the judge's template"
            ) from None
        finally:
            _RANGE_LEFT.reset(token)

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (
            prompt_tokens * self.price.get("input_per_mtok", 0.0)
            + completion_tokens * self.price.get("output_per_mtok", 0.0)
        ) / 1e6


# Bounds on what a template may compute (a judge spec is data from others): integers of at most
# MAX_INT_BITS bits, strings and lists of at most MAX_SEQUENCE items from one operation, widths and counts
# of at most MAX_SEQUENCE, MAX_RANGE_ITEMS loop items from range() per render, and a rendered prompt of at
# most MAX_TEMPLATE_OUTPUT characters beyond four times its inputs.
MAX_INT_BITS = 10_000
MAX_SEQUENCE = 1_000_000
MAX_RANGE_ITEMS = 1_000_000
MAX_TEMPLATE_OUTPUT = 2_000_000
_RANGE_LEFT: contextvars.ContextVar[int] = contextvars.ContextVar(
    "judgebench_range_left", default=MAX_RANGE_ITEMS
)
_BIG_FORMAT = re.compile(r"[%:.{<>^=+\- #0]\d{7,}|\d{7,}[dsfeigxXob%]")  # a width/precision of 7+ digits


def _size(x) -> int:
    return len(x) if isinstance(x, (str, bytes, list, tuple)) else 0


def _check_int(x, what: str) -> None:
    if isinstance(x, int) and not isinstance(x, bool) and x.bit_length() > MAX_INT_BITS:
        raise jinja2.sandbox.SecurityError(f"{what}: a number over {MAX_INT_BITS} bits")


def _check_arg(x, what: str) -> None:
    if isinstance(x, int) and not isinstance(x, bool) and abs(x) > MAX_SEQUENCE:
        raise jinja2.sandbox.SecurityError(f"{what}: argument {x} is over {MAX_SEQUENCE:,}")
    if isinstance(x, str) and _BIG_FORMAT.search(x):
        raise jinja2.sandbox.SecurityError(f"{what}: a format width or precision over {MAX_SEQUENCE:,}")


class BoundedSandbox(jinja2.sandbox.SandboxedEnvironment):
    """Jinja's sandbox (no attribute tricks) plus bounds on arithmetic and sizes: `{{ 9**(9**9) }}`,
    `{{ 'x' * 10**10 }}` or `{{ 'x'|center(10**10) }}` fail at once instead of hanging or filling memory."""

    intercepted_binops = frozenset({"**", "*", "%", "+", "//"})

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.filters = {name: self._bounded(f, f"filter {name}") for name, f in self.filters.items()}
        self.globals["range"] = self._range

    @staticmethod
    def _bounded(func, what: str):
        @functools.wraps(func)
        def bounded(*args, **kwargs):
            skip = 2 if getattr(func, "jinja_pass_arg", None) else 1  # the context and/or the value filtered
            for a in (*args[skip:], *kwargs.values()):
                _check_arg(a, what)
            result = func(*args, **kwargs)
            if _size(result) > MAX_SEQUENCE and _size(result) > 4 * max(_size(a) for a in (*args, "")):
                raise jinja2.sandbox.SecurityError(f"{what}: a result over {MAX_SEQUENCE:,} items")
            return result

        return bounded

    @staticmethod
    def _range(*args):
        r = jinja2.sandbox.safe_range(*args)  # keeps Jinja's own per-range cap
        left = _RANGE_LEFT.get() - len(r)
        if left < 0:
            raise jinja2.sandbox.SecurityError(f"range(): over {MAX_RANGE_ITEMS:,} loop items in one render")
        _RANGE_LEFT.set(left)
        return r

    def call_binop(self, context, operator, left, right):
        what = f"operator {operator}"
        _check_int(left, what)
        _check_int(right, what)
        if (
            operator == "**"
            and isinstance(left, int)
            and isinstance(right, int)
            and right > 0
            and abs(left) > 1
            and right * left.bit_length() > MAX_INT_BITS
        ):  # checked before computing: the power is the bomb
            raise jinja2.sandbox.SecurityError(f"{what}: {left} ** {right} is over {MAX_INT_BITS} bits")
        if operator == "*":
            count = right if isinstance(left, (str, bytes, list, tuple)) else left
            seq = left if isinstance(left, (str, bytes, list, tuple)) else right
            if isinstance(count, int) and _size(seq) * max(count, 0) > MAX_SEQUENCE:
                raise jinja2.sandbox.SecurityError(f"{what}: a sequence over {MAX_SEQUENCE:,} items")
            if (
                isinstance(left, int)
                and isinstance(right, int)
                and left.bit_length() + right.bit_length() > MAX_INT_BITS
            ):
                raise jinja2.sandbox.SecurityError(f"{what}: a number over {MAX_INT_BITS} bits")
        if operator == "%" and isinstance(left, str):
            _check_arg(left, what)
        result = super().call_binop(context, operator, left, right)
        _check_int(result, what)
        return result

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 (Jinja's own signature)
        what = f"call of {getattr(__obj, '__name__', type(__obj).__name__)}"
        for a in (*args, *kwargs.values()):
            _check_arg(a, what)
        bound = getattr(getattr(__obj, "__wrapped__", __obj), "__self__", None)  # Jinja wraps str.format
        if isinstance(bound, str):  # '{:>999999999}'.format(1)
            _check_arg(bound, what)
        result = super().call(__context, __obj, *args, **kwargs)
        if _size(result) > MAX_SEQUENCE and _size(result) > 4 * max((_size(a) for a in args), default=0):
            raise jinja2.sandbox.SecurityError(f"{what}: a result over {MAX_SEQUENCE:,} items")
        return result


@functools.lru_cache(maxsize=64)
def _compiled(source: str, origin: str = "") -> jinja2.Template:
    """Compiling costs ~6 ms; rendering ~0.05 ms. One compile per template source."""
    env = BoundedSandbox(
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, autoescape=False
    )
    try:
        return env.from_string(source)
    except (jinja2.TemplateError, ArithmeticError, ValueError, TypeError, MemoryError, RecursionError) as err:
        raise ConfigError(
            f"{origin or 'judge template'}: field 'template': {type(err).__name__}: {err} "
            "-> fix the judge's template"
        ) from None


MAX_YAML_NODES = 10_000  # a judge spec has tens; alias expansion (billion laughs) is counted in full
MAX_SPEC_BYTES = 1_000_000
DECODING_TYPES: dict[str, type | tuple[type, ...]] = {
    "max_tokens": int,
    "temperature": (int, float),
    "top_p": (int, float),
    "logprobs": bool,
    "top_logprobs": int,
    "seed": int,
    "stop": (str, list),
}


# The numeric decoding settings' ranges: those of the flags (settings.option), caps included.
DECODING_RANGES = {
    "max_tokens": Option("", int, minimum=0),
    "temperature": Option("", float, **TEMPERATURE_RANGE),
    "top_p": Option("", float, **TOP_P_RANGE),
    "top_logprobs": Option("", int, minimum=0, maximum=20),
    "seed": Option("", int, minimum=0, maximum=MAX_SEED),
}


def _expanded_size(node: yaml.Node, limit: int) -> int:
    """Nodes in the document with every alias expanded, counted without expanding (memoised per node)."""
    sizes: dict[int, int] = {}
    stack = [(node, False)]
    while stack:
        n, done = stack.pop()
        if id(n) in sizes:
            continue
        children = (
            [c for pair in n.value for c in pair]
            if isinstance(n, yaml.MappingNode)
            else list(n.value)
            if isinstance(n, yaml.SequenceNode)
            else []
        )
        if done:
            sizes[id(n)] = 1 + sum(sizes.get(id(c), 0) for c in children)  # a cycle counts 0 on its back edge
            if sizes[id(n)] > limit:
                return sizes[id(n)]
        else:
            stack.append((n, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(node)]


def safe_yaml_load(path: Path, text: str | None = None):
    """yaml.safe_load with bounds a shared file cannot get around: size, nesting depth, and the node count
    after alias expansion (a 1.6 KB billion-laughs file otherwise expands to gigabytes downstream)."""
    try:
        if text is None:
            if path.stat().st_size > MAX_SPEC_BYTES:
                raise ConfigError(f"{path}: over {MAX_SPEC_BYTES:,} bytes; not a judge spec")
            from judgebench.files.bounded import read_text

            text = read_text(path)  # a regular file, bounded, UTF-8
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            size = _expanded_size(node, MAX_YAML_NODES)
            if size > MAX_YAML_NODES:
                raise ConfigError(
                    f"{path}: over {MAX_YAML_NODES:,} YAML nodes once its aliases are expanded "
                    "(an alias bomb?) -> write the values out"
                )
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read: {getattr(err, 'strerror', None) or err}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {' '.join(str(err).split())}") from None
    except RecursionError:
        raise ConfigError(f"{path}: YAML nested too deeply") from None


def _bad(path: Path, field_name: str, message: str, hint: str | None = None) -> ConfigError:
    return ConfigError(f"{path}: field '{field_name}': {message}" + (f" -> {hint}" if hint else ""))


def _mapping(data: dict, key: str, path: Path) -> dict:
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise _bad(path, key, f"must be a mapping, not {type(value).__name__}")
    return dict(value)


def _validated(data, path: Path) -> dict:
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: a judge spec is a YAML mapping (name: ..., template: ...), not "
            f"{'an empty file' if data is None else type(data).__name__}"
        )
    required = ("name", "template", "protocol", "parser", "model")
    for key in required:
        if key not in data:
            raise _bad(path, key, "missing", f"a judge spec needs {', '.join(required)}")
    for key in (*required, "backend", "base_url"):
        if key in data and not isinstance(data[key], str) and not (key == "base_url" and data[key] is None):
            raise _bad(path, key, f"must be a string, not {type(data[key]).__name__}")
    labels = data.get("labels", ["m", "M"])
    if (
        not isinstance(labels, (list, tuple))
        or len(labels) < 2
        or len(set(map(str, labels))) != len(labels)
        or not all(isinstance(x, (str, int)) and str(x).strip() for x in labels)
    ):
        raise _bad(
            path, "labels", f"must be a list of at least two different non-empty labels, not {labels!r:.80}"
        )
    decoding = _mapping(data, "decoding", path)
    for key, value in decoding.items():
        want = DECODING_TYPES.get(key)
        if want is None:
            raise _bad(path, "decoding", f"unknown setting {key!r}", f"known: {', '.join(DECODING_TYPES)}")
        if not isinstance(value, want) or (want is int and isinstance(value, bool)):
            raise _bad(
                path,
                f"decoding.{key}",
                f"must be {getattr(want, '__name__', 'a number or list')}, not {value!r:.60}",
            )
        why = DECODING_RANGES[key].problem(value) if key in DECODING_RANGES else None
        if key == "stop" and (value == "" or (isinstance(value, list) and "" in value)):
            why = "cannot contain an empty string (it would stop before the first token; vLLM refuses it)"
        if why:  # the same ranges and caps as the command line's flags
            raise _bad(path, f"decoding.{key}", why)
    for key, value in _mapping(data, "price", path).items():
        if (
            not isinstance(value, (int, float))
            or isinstance(value, bool)
            or Option("", float, minimum=0).problem(value)
        ):
            raise _bad(path, f"price.{key}", f"must be a number of USD per million tokens, not {value!r:.60}")
    retries = data.get("max_parse_retries", 2)
    if not isinstance(retries, int) or isinstance(retries, bool) or not 0 <= retries <= 100:
        raise _bad(path, "max_parse_retries", f"must be a whole number 0-100, not {retries!r:.60}")
    _mapping(data, "parser_kwargs", path)
    return data


def load_spec(path: str | Path) -> JudgeSpec:
    path = Path(path)
    data = _validated(safe_yaml_load(path), path)
    folder = path.parent.resolve()
    template_path = (path.parent / data["template"]).resolve()
    if not template_path.is_relative_to(folder):  # a shared spec must not put ~/.ssh/id_rsa into a prompt
        raise _bad(
            path,
            "template",
            f"{data['template']} is outside the spec's folder",
            "keep the template beside its spec",
        )
    if not template_path.is_file():
        raise _bad(path, "template", f"template {data['template']} not found")
    try:
        from judgebench.files.bounded import read_text

        template_source = read_text(template_path)
    except (OSError, UnicodeDecodeError) as err:
        raise _bad(path, "template", f"cannot read {template_path}: {err}") from None
    return JudgeSpec(
        name=data["name"],
        protocol=data["protocol"],
        parser=data["parser"],
        template_source=template_source,
        model=data["model"],
        backend=data.get("backend", "openai"),
        base_url=data.get("base_url"),
        labels=tuple(str(x) for x in data.get("labels", ("m", "M"))),
        decoding=_mapping(data, "decoding", path),
        price=_mapping(data, "price", path),
        max_parse_retries=int(data.get("max_parse_retries", 2)),
        parser_kwargs=_mapping(data, "parser_kwargs", path),
        source=str(path),
    )
