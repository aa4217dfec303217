"""The OpenSubsonic specification bundled into one file
(scripts/schemathesis/bundle_opensubsonic.py) for the Schemathesis run of /rest/
(scripts/schemathesis/subsonic.sh).

The committed bundle is checked against the split specification where it is beside the project
(`../shared/opensubsonic/`, or OPENSUBSONIC_SPEC); the rest runs everywhere."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.conf import settings

from core import text
from subsonic.endpoints.annotation import TIME_INVALID
from subsonic.errors import missing_parameter
from subsonic.params import NOT_A_WHOLE_NUMBER
from subsonic.registry import ENDPOINTS
from subsonic.views import SERVER_ERROR

SCRIPTS = Path(settings.BASE_DIR) / "scripts" / "schemathesis"
BUNDLE = Path(settings.BASE_DIR) / "subsonic" / "openapi" / "opensubsonic.bundled.json"


def _load_bundler():
    spec = importlib.util.spec_from_file_location(
        "bundle_opensubsonic", SCRIPTS / "bundle_opensubsonic.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


bundler = _load_bundler()


def _specification_root() -> Path | None:
    try:
        return bundler.find_root()
    except bundler.SpecificationMissing:
        return None


SPEC_ROOT = _specification_root()
needs_specification = pytest.mark.skipif(
    SPEC_ROOT is None, reason="the OpenSubsonic specification is not beside the project"
)


def _dereferenced(node: Any, resolve) -> Any:
    if isinstance(node, list):
        return [_dereferenced(item, resolve) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target, resolve_inside = resolve(node["$ref"])
        return _dereferenced(target, resolve_inside)
    return {key: _dereferenced(value, resolve) for key, value in node.items()}


def _file_resolver(folder: Path):
    def resolve(reference: str):
        file = (folder / reference).resolve()
        return json.loads(file.read_text(encoding="utf-8")), _file_resolver(file.parent)

    return resolve


def _pointer_resolver(document: dict[str, Any]):
    def resolve(reference: str):
        node: Any = document
        for token in reference.removeprefix("#/").split("/"):
            node = node[token]
        return node, resolve

    return resolve


@needs_specification
def test_the_committed_bundle_is_the_bundle_of_the_specification():
    fresh = bundler.dumps(bundler.bundle(SPEC_ROOT))

    assert BUNDLE.read_text(encoding="utf-8") == fresh, (
        "Stale: run .venv/bin/python scripts/schemathesis/bundle_opensubsonic.py"
    )


@needs_specification
def test_the_bundle_says_what_the_split_files_say():
    """Every $ref followed, both are one tree: nothing lost, nothing moved. Only the bundle's
    notice and the components it had to add (files no component named) differ."""
    split = _dereferenced(
        json.loads(SPEC_ROOT.read_text(encoding="utf-8")), _file_resolver(SPEC_ROOT.parent)
    )
    committed = json.loads(BUNDLE.read_text(encoding="utf-8"))
    bundled = _dereferenced(committed, _pointer_resolver(committed))

    assert bundled["info"].pop("x-bundled-from") == bundler.NOTICE
    added = {
        section: set(bundled["components"][section]) - set(split["components"][section])
        for section in split["components"]
    }
    assert added == {
        "responses": {"TranscodeDecisionResponse"},
        "parameters": set(),
        "securitySchemes": set(),
        "schemas": {"Movement", "Work"},
    }
    for section, names in added.items():
        for name in names:
            del bundled["components"][section][name]
    assert bundled == split


def test_every_reference_of_the_bundle_points_inside_it():
    document = json.loads(BUNDLE.read_text(encoding="utf-8"))

    assert list(bundler.unresolved_references(document)) == []
    assert "$ref" in json.dumps(document["paths"]["/rest/getUser"])  # there are some


def test_schemathesis_loads_every_operation_and_each_implemented_endpoint_is_there():
    schema = schemathesis.openapi.from_path(str(BUNDLE))
    loaded = [result.ok() for result in schema.get_all_operations()]
    paths = {(operation.path, operation.method.upper()) for operation in loaded}

    assert len(loaded) == 172
    for name in ENDPOINTS:
        assert {(f"/rest/{name}", "GET"), (f"/rest/{name}", "POST")} <= paths


def test_the_license_and_its_notice_are_beside_the_bundle():
    license_text = (BUNDLE.parent / "LICENSE").read_text(encoding="utf-8")
    readme = (BUNDLE.parent / "README.md").read_text(encoding="utf-8")

    assert "Apache License" in license_text
    assert "Version 2.0" in license_text
    assert "bundle_opensubsonic.py" in readme


# The bundler on a small specification of its own.


def _write(folder: Path, files: dict[str, Any]) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content), encoding="utf-8")


def _small_specification(folder: Path) -> Path:
    _write(
        folder,
        {
            "openapi.json": {
                "openapi": "3.0.0",
                "info": {"title": "t", "version": "1"},
                "paths": {"/rest/ping": {"$ref": "./endpoints/ping.json"}},
                "components": {
                    "responses": {"Empty": {"$ref": "./responses/Empty.json"}},
                    "schemas": {"Base": {"$ref": "./schemas/Base.json"}},
                },
            },
            "endpoints/ping.json": {
                "get": {
                    "responses": {
                        "200": {"$ref": "../responses/Empty.json"},
                        "201": {"$ref": "../schemas/Odd.json"},
                    }
                },
                "post": {
                    "responses": {
                        "200": {
                            "description": "d",
                            "content": {
                                "application/json": {"schema": {"$ref": "./ping/PingResponse.json"}}
                            },
                        }
                    }
                },
            },
            "endpoints/ping/PingResponse.json": {
                "allOf": [{"$ref": "../../schemas/Base.json"}, {"type": "object"}]
            },
            "responses/Empty.json": {
                "description": "e",
                "content": {"application/json": {"schema": {"$ref": "../schemas/Base.json"}}},
            },
            "schemas/Base.json": {
                "type": "object",
                "properties": {"work": {"$ref": "./Work.json"}},
            },
            "schemas/Work.json": {"type": "string"},
            "schemas/Odd.json": {"description": "a response kept among the schemas"},
        },
    )
    return folder / "openapi.json"


def test_the_bundler_inlines_files_where_they_are_named_and_names_the_others(tmp_path):
    document = bundler.bundle(_small_specification(tmp_path))

    ping = document["paths"]["/rest/ping"]
    assert ping["get"]["responses"] == {
        "200": {"$ref": "#/components/responses/Empty"},
        "201": {"$ref": "#/components/responses/Odd"},
    }
    assert ping["post"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PingResponse"
    }
    components = document["components"]
    assert components["responses"]["Empty"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Base"
    }
    assert components["schemas"]["Base"]["properties"]["work"] == {
        "$ref": "#/components/schemas/Work"
    }
    assert components["schemas"]["PingResponse"]["allOf"][0] == {
        "$ref": "#/components/schemas/Base"
    }
    assert components["schemas"]["Work"] == {"type": "string"}
    assert components["responses"]["Odd"] == {"description": "a response kept among the schemas"}
    assert list(bundler.unresolved_references(document)) == []


@pytest.mark.parametrize(
    "reference",
    ["../schemas/Base.json#/properties", "https://example.com/x.json", "../schemas/Nothing.json"],
)
def test_the_bundler_refuses_a_reference_it_cannot_place(tmp_path, reference):
    root = _small_specification(tmp_path)
    _write(tmp_path, {"endpoints/ping.json": {"get": {"responses": {"200": {"$ref": reference}}}}})

    with pytest.raises(bundler.BundleError):
        bundler.bundle(root)


def test_the_bundler_writes_then_checks_and_finds_a_stale_bundle(tmp_path, capsys):
    root = _small_specification(tmp_path / "spec")
    output = tmp_path / "bundle.json"

    assert bundler.main(["--spec", str(root.parent), "--output", str(output)]) == 0
    assert bundler.main(["--spec", str(root), "--output", str(output), "--check"]) == 0
    output.write_text(output.read_text().replace('"1"', '"2"'))
    assert bundler.main(["--spec", str(root), "--output", str(output), "--check"]) == 1
    assert "is not the bundle of" in capsys.readouterr().err


def test_without_the_specification_the_bundler_says_so_and_skips(tmp_path, capsys):
    output = tmp_path / "bundle.json"

    assert bundler.main(["--spec", str(tmp_path / "absent"), "--output", str(output)]) == 3
    assert "Skipped: no OpenSubsonic openapi.json" in capsys.readouterr().err
    assert not output.exists()


# The hooks' copies of what the server says, read in a process of their own (importing them
# here would register their hooks and checks in this one).

HOOKS_PROBE = """
import json, runpy, sys
hooks = runpy.run_path(sys.argv[1])
sentences = json.loads(sys.argv[2])
missing = [hooks["MISSING_NAMED"].fullmatch(s) for s in sentences["missing"]]
print(json.dumps({
    "server_error": hooks["SERVER_ERROR"],
    "missing": [found and found["name"] for found in missing],
    "text_rule": [bool(hooks["TEXT_RULE"].match(s)) for s in sentences["text_rule"]],
    "whole_number": [
        found and found["name"]
        for found in [hooks["WHOLE_NUMBER_REFUSED"].fullmatch(sentences["whole_number"])]
    ],
    "time": hooks["TIME_REFUSED"],
}))
"""


def test_the_hooks_know_the_servers_sentences():
    text_rule = [
        text.BLANK,
        f"name: {text.CONTROL_CHARACTERS}",
        text.invisible_character_message("\u200b"),
        text.NOT_TEXT,
        "comment: String should have at most 10 characters",
    ]
    sentences = {
        "missing": [missing_parameter("username").message],
        "text_rule": text_rule,
        "whole_number": NOT_A_WHOLE_NUMBER.format(name="songOffset"),
    }
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            HOOKS_PROBE,
            str(SCRIPTS / "subsonic_hooks.py"),
            json.dumps(sentences),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    known = json.loads(probe.stdout)

    assert known["server_error"] == SERVER_ERROR
    assert known["missing"] == ["username"]
    assert known["text_rule"] == [True] * len(text_rule)
    assert known["whole_number"] == ["songOffset"]
    assert known["time"] == TIME_INVALID
