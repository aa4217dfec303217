"""Bundle the OpenSubsonic OpenAPI description (a root file and ~290 files it points to by
relative `$ref`) into one JSON file that Schemathesis, or any validator, loads on its own.

    .venv/bin/python scripts/schemathesis/bundle_opensubsonic.py            # write the bundle
    .venv/bin/python scripts/schemathesis/bundle_opensubsonic.py --check    # is it up to date?
    .venv/bin/python scripts/schemathesis/bundle_opensubsonic.py --spec DIR --output FILE

The specification is read from `--spec` (the root openapi.json, or a folder holding it
directly or in `openapi/`), else OPENSUBSONIC_SPEC (the same variable subsonic/tests/test_spec.py
reads), else `../shared/opensubsonic/` beside the repository. Without it: a message and exit
code 3, not a failure (a clone on its own has only the committed bundle).

How files become one:
- a path item `{"$ref": "./endpoints/ping.json"}` is replaced by that file's content;
- the root's components already name nearly every other file (`"Child": {"$ref":
  "./schemas/Child.json"}`): each such entry gets the file's content, under the same name;
- a file no component names becomes a component named by its file name: a response if it
  is referred to as an operation's response (schemas/TranscodeDecisionResponse.json is
  one), else a schema;
- every `$ref` to a file becomes `#/components/<kind>/<name>`, so each pointer resolves
  inside the one document. A `$ref` this does not expect (a fragment, a URL, a path item
  from elsewhere, two files with one name) stops the bundling with an error.

Nothing else changes: no key is dropped, renamed or reordered; `info` gains
`x-bundled-from`, the notice the Apache License asks of a modified file.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

REPOSITORY = Path(__file__).resolve().parents[2]
DEFAULT_SPEC = REPOSITORY.parent / "shared" / "opensubsonic"
DEFAULT_OUTPUT = REPOSITORY / "subsonic" / "openapi" / "opensubsonic.bundled.json"
SPEC_VARIABLE = "OPENSUBSONIC_SPEC"
# The specification is not there: not an error of the bundle (see the module's docstring).
EXIT_NO_SPEC = 3
EXIT_STALE = 1

COMPONENT_PREFIX = "#/components/"
NOTICE = (
    "Bundled into one file by scripts/schemathesis/bundle_opensubsonic.py from the "
    "OpenSubsonic specification's openapi/ folder (open-subsonic-api, Apache License 2.0, "
    "see LICENSE beside this file): each file's content is placed at the component or path "
    "that referred to it, and each file $ref rewritten as a #/components/ pointer. Nothing "
    "else is changed."
)


class BundleError(Exception):
    """The specification uses a $ref form the bundler does not handle."""


class SpecificationMissing(Exception):
    pass


@dataclass
class Bundler:
    folder: Path  # the folder of the root openapi.json; every file path is relative to it
    root: dict[str, Any]
    # file (relative, POSIX) -> (section, component name)
    components: dict[str, tuple[str, str]] = field(default_factory=dict)
    path_items: set[str] = field(default_factory=set)
    added: dict[str, dict[str, Any]] = field(default_factory=dict)  # section -> name -> content

    @classmethod
    def of(cls, root_file: Path) -> Bundler:
        bundler = cls(folder=root_file.parent, root=_load(root_file))
        for section, entries in bundler.root.get("components", {}).items():
            for name, entry in entries.items():
                target = _file_ref(entry)
                if target is None:
                    continue
                file = _normalized(PurePosixPath("."), target)
                if file in bundler.components:
                    raise BundleError(f"{file} is named twice in components")
                bundler.components[file] = (section, name)
        for path, item in bundler.root.get("paths", {}).items():
            target = _file_ref(item)
            if target is None:
                raise BundleError(f"the path item of {path} is not a file $ref")
            bundler.path_items.add(_normalized(PurePosixPath("."), target))
        return bundler

    def bundle(self) -> dict[str, Any]:
        result = dict(self.root)
        result["info"] = {**self.root["info"], "x-bundled-from": NOTICE}
        result["paths"] = {
            path: self._content(_normalized(PurePosixPath("."), item["$ref"]))
            for path, item in self.root["paths"].items()
        }
        components: dict[str, Any] = {}
        for section, entries in self.root.get("components", {}).items():
            components[section] = {
                name: self._content(_normalized(PurePosixPath("."), target))
                if (target := _file_ref(entry)) is not None
                else self._rewritten(entry, PurePosixPath("."))
                for name, entry in entries.items()
            }
        # Files no component named, reached while rewriting: until no new one appears.
        done: set[tuple[str, str]] = set()
        while pending := [
            (section, name)
            for section, names in self.added.items()
            for name in names
            if (section, name) not in done
        ]:
            for section, name in pending:
                done.add((section, name))
                file = self.added[section][name]["file"]
                self.added[section][name]["content"] = self._content(file)
        for section, names in self.added.items():
            entries = components.setdefault(section, {})
            for name in sorted(names):
                entries[name] = names[name]["content"]
        result["components"] = components
        return result

    def _content(self, file: str) -> Any:
        return self._rewritten(_load(self.folder / file), PurePosixPath(file).parent)

    def _rewritten(self, node: Any, base: PurePosixPath, at: tuple[str, ...] = ()) -> Any:
        """`node` of a file in the folder `base`, its file $refs made pointers; `at` is the
        last two keys above it (a $ref at `responses`/<status> is a response)."""
        if isinstance(node, list):
            return [self._rewritten(item, base) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            if len(node) > 1:
                raise BundleError(f"a $ref with sibling keys under {base}: {sorted(node)}")
            is_response = len(at) == 2 and at[0] == "responses" and _is_status(at[1])
            return {"$ref": self._pointer(node["$ref"], base, is_response=is_response)}
        return {key: self._rewritten(value, base, (*at[-1:], key)) for key, value in node.items()}

    def _pointer(self, reference: str, base: PurePosixPath, *, is_response: bool) -> str:
        if not isinstance(reference, str) or "#" in reference or "://" in reference:
            raise BundleError(f"unsupported $ref {reference!r} under {base}")
        file = _normalized(base, reference)
        if file in self.path_items:
            raise BundleError(f"{file} is a path item, referred to from {base}")
        if not (self.folder / file).is_file():
            raise BundleError(f"{reference!r} under {base} names no file")
        if file in self.components:
            section, name = self.components[file]
            if (section == "responses") != is_response:
                raise BundleError(f"{file} is used as a response and as a {section} entry")
        else:
            section, name = self._new_component(file, is_response=is_response)
        return f"{COMPONENT_PREFIX}{section}/{name}"

    def _new_component(self, file: str, *, is_response: bool) -> tuple[str, str]:
        section = "responses" if is_response else "schemas"
        name = PurePosixPath(file).stem
        taken = {n for s, n in self.components.values() if s == section}
        existing = self.added.setdefault(section, {}).get(name)
        if existing is None and name in self.added.get(
            "schemas" if is_response else "responses", {}
        ):
            raise BundleError(f"{file} is used as a response and as a schema")
        if existing is not None and existing["file"] != file:
            raise BundleError(f"{file} and {existing['file']} would both be {section}/{name}")
        if existing is None:
            if name in taken or name in self.root.get("components", {}).get(section, {}):
                raise BundleError(f"{file} would take the name of the component {section}/{name}")
            self.added[section][name] = {"file": file, "content": None}
        return section, name


def _is_status(key: str) -> bool:
    return key == "default" or (len(key) == 3 and key[0] in "12345" and key[1:].isalnum())


def _load(file: Path) -> Any:
    with file.open(encoding="utf-8") as handle:
        return json.load(handle)


def _file_ref(entry: Any) -> str | None:
    if isinstance(entry, dict) and set(entry) == {"$ref"} and not entry["$ref"].startswith("#"):
        return entry["$ref"]
    return None


def _normalized(base: PurePosixPath, reference: str) -> str:
    """`reference` relative to the folder `base` (both relative to the root's folder), as a
    POSIX path without `.` or `..`; BundleError if it leaves the specification's folder."""
    parts: list[str] = []
    for part in (base / reference).parts:
        if part == "..":
            if not parts:
                raise BundleError(f"{reference!r} under {base} leaves the specification")
            parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def _main_checkout() -> Path | None:
    """The main checkout when this one is a `git worktree` elsewhere (its ../shared is the
    one beside the main checkout); None otherwise or without git."""
    try:
        common = subprocess.run(
            ["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],  # noqa: S607
            cwd=REPOSITORY,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    main = Path(common).parent
    return main if common and main != REPOSITORY else None


def find_root(spec: str | os.PathLike[str] | None = None) -> Path:
    """The root openapi.json: of `spec` (the file, or a folder with it directly or in
    openapi/), else of OPENSUBSONIC_SPEC, else of ../shared/opensubsonic beside this
    checkout (or beside the main checkout, for a git worktree)."""
    given = spec or os.environ.get(SPEC_VARIABLE)
    if given:
        candidates = [Path(given)]
    else:
        main = _main_checkout()
        candidates = [DEFAULT_SPEC]
        if main is not None:
            candidates.append(main.parent / "shared" / "opensubsonic")
    for candidate in candidates:
        for root in (candidate, candidate / "openapi.json", candidate / "openapi" / "openapi.json"):
            if root.is_file():
                return root
    raise SpecificationMissing(
        "no OpenSubsonic openapi.json at " + " nor ".join(str(path) for path in candidates)
    )


def bundle(root_file: Path) -> dict[str, Any]:
    return Bundler.of(root_file).bundle()


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def unresolved_references(document: Any) -> Iterator[str]:
    """Each `$ref` of `document` that is not a pointer to something inside it."""
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            reference = node.get("$ref")
            if isinstance(reference, str) and not _resolves(document, reference):
                yield reference
            stack.extend(value for key, value in node.items() if key != "$ref")


def _resolves(document: Any, reference: str) -> bool:
    if not reference.startswith("#/"):
        return False
    node = document
    for token in reference[2:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--spec", help=f"openapi.json or its folder (default: ${SPEC_VARIABLE} or {DEFAULT_SPEC})"
    )
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT), help="the bundle to write")
    parser.add_argument(
        "--check",
        action="store_true",
        help="only compare: exit 1 if the bundle at --output is not the fresh one",
    )
    arguments = parser.parse_args(argv)
    try:
        root_file = find_root(arguments.spec)
    except SpecificationMissing as missing:
        print(f"Skipped: {missing} (set --spec or {SPEC_VARIABLE}).", file=sys.stderr)
        return EXIT_NO_SPEC
    document = bundle(root_file)
    unresolved = sorted(set(unresolved_references(document)))
    if unresolved:
        raise BundleError(f"unresolved $ref after bundling: {unresolved[:5]}")
    text = dumps(document)
    output = Path(arguments.output)
    if arguments.check:
        if not output.is_file() or output.read_text(encoding="utf-8") != text:
            print(f"{output} is not the bundle of {root_file}: run {parser.prog}.", file=sys.stderr)
            return EXIT_STALE
        print(f"{output} is the bundle of {root_file}.")
        return 0
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print(f"Wrote {output} from {root_file}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
