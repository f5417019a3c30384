"""JUnit XML that agrees with the exit code: written atomically, and never green for a run that did not finish.

pytest's junitxml plugin is pointed at a temporary file when the run starts; at the end the file gets, when
the run was interrupted, aborted or tested nothing, one erroring ``conformance`` test case that says so, and
is renamed over the requested path in one step.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from _pytest.junitxml import xml_key

from conformance.files import write_text_atomic

FINAL_KEY = pytest.StashKey[str]()


def redirect_junit(config: pytest.Config) -> None:
    """Let the junitxml plugin write beside the final path; ``mark_junit`` moves it into place."""
    xml = config.stash.get(xml_key, None)
    if xml is None:
        return
    final = str(xml.logfile)
    config.stash[FINAL_KEY] = final
    xml.logfile = os.path.join(os.path.dirname(final), f".{os.path.basename(final)}.partial")


def _outcome_case(outcome: str) -> ET.Element:
    case = ET.Element("testcase", classname="conformance", name="run", time="0")
    error = ET.SubElement(case, "error", message=outcome)
    error.text = f"The conformance run did not complete: {outcome}. Its results must not gate a release."
    return case


def mark_junit(config: pytest.Config, outcome: str | None) -> Path | None:
    """Move the written JUnit file into place, adding the run's outcome as an error when it is not complete."""
    xml = config.stash.get(xml_key, None)
    final = config.stash.get(FINAL_KEY, None)
    if xml is None or final is None:
        return None
    partial = Path(xml.logfile)
    xml.logfile = final  # the terminal's "generated xml file" line names the real file
    if not partial.is_file():
        return None
    if outcome is None:
        os.replace(partial, final)
        return Path(final)
    root = ET.parse(partial).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    if suite is None:
        suite = ET.SubElement(root, "testsuite", name="conformance")
    suite.append(_outcome_case(outcome))
    for name in ("errors", "tests"):
        suite.set(name, str(int(suite.get(name, "0")) + 1))
    write_text_atomic(Path(final), '<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(root, encoding="unicode"))
    partial.unlink(missing_ok=True)
    return Path(final)
