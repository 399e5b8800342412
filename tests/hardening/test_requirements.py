"""Reproducible dependencies: requirements.txt (what Lambda packages) pins every package it
needs, transitive ones included, as generated from requirements.in by pip-compile, and
multiaddr is a version that pulls in neither trio nor dnspython nor psutil."""

import re
from importlib.metadata import requires

from packaging.requirements import Requirement

from tests.support.processes import ROOT

PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;]+)")


def pinned(path: str) -> dict[str, str]:
    pins = {}
    for line in (ROOT / path).read_text().splitlines():
        if match := PIN.match(line):
            pins[match[1].lower().replace("_", "-")] = match[2]
    return pins


def names(requirements: list[str] | None) -> set[str]:
    """Dependency names that apply here (markers evaluated, extras left out)."""
    found = set()
    for text in requirements or []:
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            found.add(requirement.name.lower().replace("_", "-"))
    return found


def test_every_runtime_dependency_is_pinned_transitively():
    pins = pinned("requirements.txt")
    assert (
        "generated" in (ROOT / "requirements.txt").read_text()
        or "pip-compile" in (ROOT / "requirements.txt").read_text()
    )
    for line in (ROOT / "requirements.in").read_text().splitlines():
        if match := PIN.match(line):
            assert pins[match[1].lower().replace("_", "-")] == match[2], line
    for name in pins:
        missing = names(requires(name)) - set(pins)
        assert not missing, f"{name} needs {missing}, not pinned in requirements.txt"


def test_multiaddr_pulls_in_no_trio_dnspython_or_psutil():
    pins = pinned("requirements.txt")
    assert not {"trio", "trio-typing", "dnspython", "psutil"} & set(pins)
    assert not {"trio", "dnspython", "psutil"} & names(requires("multiaddr"))
