"""The documentation stands alone and says what the code does.

Fast and offline: reads tracked files and the CLI's command tree, starts nothing.
- nothing refers to files outside the repository (the design notes it grew from are not part of it);
- every relative link in the README and docs/ points to a file, and every #anchor to a heading;
- the README starts with its two commands;
- every `tradlyte` command shown in a code block exists, with the options it is shown with.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import click
import pytest

ROOT = Path(__file__).resolve().parent.parent

# References to the notes outside the repository (the shared folder beside the clone, its design,
# API and stack notes, the seed system's texts). Written so that this file does not match itself.
OUTSIDE_REFERENCES = re.compile(
    r"\.\./shared\b"
    r"|/work/(?=shared\b)"
    r"|\bshared/(?:DESIGN|polygon-api|stack-notes)\.md"
    r"|\b(?:stack-notes|polygon-api)\.md"
    r"|(?<![\w/.-])seed(?=/)"
)
WORK_IN_PROGRESS = re.compile(r"\b(?:TODO|FIXME|WIP)\b|\b(?:work|helper) briefs?\b", re.IGNORECASE)


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [name for name in out.decode().split("\0") if name]


def doc_files() -> list[Path]:
    """The README and every page under docs/."""
    names = [n for n in tracked_files() if n == "README.md" or (n.startswith("docs/") and n.endswith(".md"))]
    # pages added in this checkout but not committed yet are documentation too
    names += [str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("**/*.md")]
    return sorted({ROOT / n for n in names if (ROOT / n).is_file()})


def read_text(path: Path) -> str | None:
    """The file as text, or None for binary data (and the seed CSVs, which are data)."""
    if path.suffix == ".csv":
        return None
    data = path.read_bytes()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def outside_references(paths) -> list[str]:
    found = []
    for path in paths:
        text = read_text(path)
        for number, line in enumerate((text or "").splitlines(), 1):
            if OUTSIDE_REFERENCES.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return found


def test_docs_refer_to_nothing_outside_the_repository():
    assert outside_references(doc_files()) == []


def test_no_tracked_file_refers_outside_the_repository():
    paths = [ROOT / name for name in tracked_files() if (ROOT / name).is_file()]
    assert outside_references(paths) == []


def test_docs_carry_no_work_in_progress_notes():
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for path in doc_files()
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if WORK_IN_PROGRESS.search(line)]
    assert found == []


# -- links ------------------------------------------------------------------------------------
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.MULTILINE)
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$", re.MULTILINE)


def prose(text: str) -> str:
    """The text without code, where brackets and parentheses are not links."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def links(path: Path) -> list[str]:
    text = prose(path.read_text())
    return LINK.findall(text) + REFERENCE_LINK.findall(text)


def is_relative(target: str) -> bool:
    return not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) and not target.startswith("//")


def github_anchors(path: Path) -> set[str]:
    """The anchors GitHub gives a page's headings: lowercase, punctuation dropped, spaces to
    hyphens, a repeated heading numbered."""
    anchors: set[str] = set()
    for _, title in HEADING.findall(FENCE.sub("", path.read_text())):
        title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title)  # a link in a heading keeps its text
        slug = re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")
        candidate, n = slug, 0
        while candidate in anchors:
            n += 1
            candidate = f"{slug}-{n}"
        anchors.add(candidate)
    return anchors


@pytest.mark.parametrize("page", doc_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path):
    broken = []
    for target in links(page):
        if not is_relative(target):
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (page.parent / file_part).resolve() if file_part else page
        if ROOT not in resolved.parents and resolved != ROOT:
            broken.append(f"{target}: outside the repository")
        elif not resolved.exists():
            broken.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in github_anchors(resolved):
            broken.append(f"{target}: no heading #{anchor} in {resolved.relative_to(ROOT)}")
    assert broken == []


# -- the README -------------------------------------------------------------------------------
def test_readme_starts_with_the_two_commands():
    lines = [line for line in (ROOT / "README.md").read_text().splitlines() if line.strip()]
    assert lines[0].startswith("# ")
    assert lines[1].startswith("```")
    assert lines[2].split("#")[0].split() == ["make", "demo"]
    assert lines[3].split("#")[0].split() == ["make", "test"]
    assert lines[4] == "```"


def test_shown_make_targets_exist():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, re.MULTILINE))
    used = set()
    for page in doc_files():
        text = page.read_text()
        code = "\n".join([block.group(0) for block in FENCE.finditer(text)] + INLINE_CODE.findall(text))
        used |= set(re.findall(r"(?:^|[\s`])make ([a-z][\w-]*)", code, re.MULTILINE))
    assert {"demo", "test"} <= used <= targets, used - targets


# -- tradlyte commands ------------------------------------------------------------------------
def shown_commands(page: Path) -> list[list[str]]:
    """Each `tradlyte ...` invocation in a code block of the page, as words after the program."""
    commands = []
    for block in re.findall(r"^```[^\n]*\n(.*?)^```", page.read_text(), re.MULTILINE | re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #")[0]
            # `<your key>` style placeholders are one word
            line = re.sub(r"<[^>]*>", "PLACEHOLDER", line)
            for segment in re.split(r"&&|;|\|\||>>|\|", line):
                try:
                    words = shlex.split(segment)
                except ValueError:
                    continue
                for i, word in enumerate(words):
                    if word.endswith("/tradlyte") or word == "tradlyte" or word == "orchestration.cli":
                        commands.append(words[i + 1:])
                        break
    return commands


def resolve(words: list[str]) -> tuple[click.Command, list[str], list[str]]:
    """The click command the words name, the path to it and the words left for it."""
    from orchestration.cli import main

    command, path, rest = main, [], list(words)
    while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        sub = command.get_command(click.Context(command), rest[0])
        assert sub is not None, f"no command `tradlyte {' '.join(path + [rest[0]])}`"
        command, path, rest = sub, path + [rest.pop(0)], rest
    return command, path, rest


def option_names(command: click.Command) -> set[str]:
    names = {"--help"}
    for param in command.params:
        names.update(getattr(param, "opts", []), getattr(param, "secondary_opts", []))
    return names


@pytest.mark.parametrize("page", doc_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_shown_tradlyte_commands_exist(page: Path):
    for words in shown_commands(page):
        if not words:
            continue
        command, path, rest = resolve(words)
        if command.context_settings.get("ignore_unknown_options"):
            rest = rest[:1] if rest and rest[0].startswith("--") else []  # `tradlyte dbt` hands the rest to dbt
        unknown = [w.split("=")[0] for w in rest
                   if w.startswith("--") and w.split("=")[0] not in option_names(command)]
        assert not unknown, f"`tradlyte {' '.join(path)}` has no option {unknown} ({page.name})"
