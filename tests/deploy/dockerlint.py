"""A small Dockerfile checker for the rules this project's image must keep.

hadolint checks the general rules when it is installed (``test_dockerfile.py``); this checker
runs everywhere, and also holds the rules that are this project's own (a non-root numeric user,
no compiler in the final stage, the bind host, the health check). :func:`problems` returns one
line per broken rule, each starting with the rule's name.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import PurePosixPath

BUILD_TOOLS = frozenset(
    {"gcc", "g++", "cc", "clang", "make", "build-essential", "python3-dev", "libc6-dev", "rustc"}
)
CONTEXT_EXCLUDED = (".git", ".venv", "data", "logs", "tests", "bench", ".env")
CONTEXT_EXCLUDED_FILES = ("src/gamestore/__pycache__/x.pyc", "deploy/.env")


@dataclass
class Instruction:
    keyword: str
    args: str
    line: int


@dataclass
class Stage:
    image: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def of(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


def instructions(text: str) -> list[Instruction]:
    """The instructions of a Dockerfile: comments dropped, continued lines joined."""
    found: list[Instruction] = []
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        whole = pending + stripped
        pending = ""
        keyword, _, args = whole.partition(" ")
        found.append(Instruction(keyword.upper(), args.strip(), start))
    if pending:
        keyword, _, args = pending.strip().partition(" ")
        found.append(Instruction(keyword.upper(), args.strip(), start))
    return found


def _substitute(value: str, args: dict[str, str]) -> str:
    return re.sub(
        r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m.group(1) or m.group(2), m.group(0)), value
    )


def stages(text: str) -> tuple[dict[str, str], list[Stage]]:
    """The global ARG defaults and the build stages (FROM's image with those ARGs put in)."""
    global_args: dict[str, str] = {}
    found: list[Stage] = []
    for instruction in instructions(text):
        if instruction.keyword == "FROM":
            words = [w for w in instruction.args.split() if not w.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            found.append(Stage(_substitute(words[0], global_args), name))
        elif not found:
            if instruction.keyword == "ARG":
                key, _, default = instruction.args.partition("=")
                global_args[key.strip()] = default.strip().strip('"')
        else:
            found[-1].instructions.append(instruction)
    return global_args, found


def exec_form(args: str) -> list[str] | None:
    """The JSON array of an exec-form instruction; None for the shell form."""
    try:
        value = json.loads(args)
    except ValueError:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


def _pinned(image: str, stage_names: set[str]) -> bool:
    if image in stage_names or image == "scratch":
        return True
    if "@sha256:" in image:
        return True
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return False
    tag = last.rsplit(":", 1)[1]
    return bool(tag) and tag != "latest" and "$" not in tag


def _installed_packages(run: str) -> set[str]:
    """Package names a RUN installs with apt-get, apt or apk."""
    names: set[str] = set()
    for command in re.split(r"&&|;|\|\|", run):
        try:
            words = shlex.split(command)
        except ValueError:
            words = command.split()
        for i, word in enumerate(words):
            if word in ("apt-get", "apt", "apk") and i + 1 < len(words):
                verb = words[i + 1]
                if verb in ("install", "add"):
                    names.update(
                        w.split("=", 1)[0] for w in words[i + 2 :] if not w.startswith("-")
                    )
    return names


def stage_env(stage: Stage) -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction in stage.of("ENV"):
        for word in shlex.split(instruction.args):
            key, sep, value = word.partition("=")
            if sep:
                env[key] = value
    return env


def _labels(stage: Stage) -> set[str]:
    keys: set[str] = set()
    for instruction in stage.of("LABEL"):
        keys.update(word.partition("=")[0] for word in shlex.split(instruction.args))
    return keys


def problems(dockerfile: str) -> list[str]:
    """Every rule the Dockerfile breaks, one line each (empty: it keeps them all)."""
    found: list[str] = []
    _, all_stages = stages(dockerfile)
    if not all_stages:
        return ["no-from: the Dockerfile has no FROM"]
    names = {s.name for s in all_stages if s.name}
    for stage in all_stages:
        if not _pinned(stage.image, names):
            found.append(f"base-pinned: FROM {stage.image} has no fixed tag (or uses latest)")
    final = all_stages[-1]
    if len(all_stages) < 2:
        found.append("multi-stage: a single stage builds and runs")
    elif not any("--from=" in i.args for i in final.of("COPY")):
        found.append("multi-stage: the final stage copies nothing from an earlier stage")
    every = [i for stage in all_stages for i in stage.instructions]
    if any(i.keyword == "ADD" for i in every):
        found.append("copy-not-add: ADD is used where COPY would do")
    for instruction in every:
        if instruction.keyword != "RUN":
            continue
        run = instruction.args
        if re.search(r"\bpip3?\b[^&;|]*\binstall\b", run) and "--no-cache-dir" not in run:
            found.append(
                f"pip-no-cache: line {instruction.line}: pip install without --no-cache-dir"
            )
        if re.search(r"\bapt-get\b[^&;|]*\binstall\b", run):
            if "rm -rf /var/lib/apt/lists" not in run:
                found.append(f"apt-lists: line {instruction.line}: apt lists are not removed")
            if "--no-install-recommends" not in run:
                found.append(f"apt-recommends: line {instruction.line}: recommends installed")
    for instruction in final.of("RUN"):
        tools = _installed_packages(instruction.args) & BUILD_TOOLS
        if tools:
            found.append(f"no-build-tools: the final stage installs {', '.join(sorted(tools))}")
    for instruction in final.of("COPY"):
        sources = [w for w in instruction.args.split() if not w.startswith("--")][:-1]
        if "--from=" not in instruction.args and "." in sources:
            found.append("final-copies-context: the final stage copies the whole build context")
    users = final.of("USER")
    user = users[-1].args.split(":")[0] if users else ""
    if not user.isdigit() or int(user) == 0:
        found.append(f"user: the final stage must run as a numeric non-root user, not {user!r}")
    checks = final.of("HEALTHCHECK")
    if not checks or checks[-1].args.strip().upper() == "NONE":
        found.append("healthcheck: the final stage has no HEALTHCHECK")
    elif "CMD" in checks[-1].args and exec_form(checks[-1].args.split("CMD", 1)[1]) is None:
        found.append("healthcheck: the HEALTHCHECK command is not in exec form")
    for keyword in ("ENTRYPOINT", "CMD"):
        given = final.of(keyword)
        if not given:
            found.append(f"exec-form: the final stage has no {keyword}")
        elif exec_form(given[-1].args) is None:
            found.append(f"exec-form: {keyword} is in shell form")
    env = stage_env(final)
    for key, wanted in (
        ("GAMESTORE_BIND_HOST", "0.0.0.0"),  # nosec B104: the container's own interfaces
        ("PYTHONDONTWRITEBYTECODE", "1"),
        ("PYTHONUNBUFFERED", "1"),
    ):
        if env.get(key) != wanted:
            found.append(f"env: the final stage must set {key}={wanted}")
    for key in ("GAMESTORE_DATA_DIR", "GAMESTORE_LOG_DIR"):
        if not env.get(key, "").startswith("/"):
            found.append(f"env: the final stage must set {key} to an absolute path")
    labels = _labels(final)
    for label in ("title", "version", "licenses"):
        if f"org.opencontainers.image.{label}" not in labels:
            found.append(f"labels: org.opencontainers.image.{label} is missing")
    return found


def _pattern(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go's filepath.Match, plus ``**``) as a regular expression."""
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out + "$")


def ignored(path: str, dockerignore: str) -> bool:
    """Whether the build context leaves ``path`` out: the last pattern matching the path or one
    of its parent directories decides (``!`` patterns put paths back)."""
    rules = []
    for line in dockerignore.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        body = line[1:] if negate else line
        body = str(PurePosixPath(body.strip("/")))
        rules.append((negate, _pattern(body)))
    parts = PurePosixPath(path).parts
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for negate, regex in rules:
        if any(regex.match(candidate) for candidate in candidates):
            excluded = not negate
    return excluded


def context_problems(dockerfile: str, dockerignore: str) -> list[str]:
    """What the .dockerignore lets into the build context that must stay out, and what the
    Dockerfile COPYs from the context that it leaves out."""
    found = [
        f"dockerignore: {path} is sent to the build"
        for path in (*CONTEXT_EXCLUDED, *CONTEXT_EXCLUDED_FILES)
        if not ignored(path, dockerignore)
    ]
    for stage in stages(dockerfile)[1]:
        for instruction in stage.of("COPY"):
            if "--from=" in instruction.args:
                continue
            sources = [w for w in instruction.args.split() if not w.startswith("--")][:-1]
            found.extend(
                f"dockerignore: COPY {source} but the build context leaves it out"
                for source in sources
                if source != "." and ignored(source.rstrip("/"), dockerignore)
            )
    return found
