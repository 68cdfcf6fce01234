"""The layers hold: the services import without the orchestration layer, the CLI starts light."""

from __future__ import annotations

import json
import subprocess
import sys

from core.resources import PROJECT_ROOT


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
                         cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_sources_and_services_import_without_orchestration_or_the_sandbox():
    # one process: importing dlt is most of the time
    modules = _modules_after("import ingestion.load, ingestion.polygon, ingestion.flatfiles, alerts.evaluator, "
                             "serving.bars")
    assert not {m for m in modules if m.split(".")[0] == "orchestration"}
    assert not {m for m in modules if m.startswith("ingestion.sandbox")}


def test_help_imports_no_heavy_library():
    # what makes `tradlyte --help` slow is importing the engines, not click: keep them out
    heavy = {"dlt", "dbt", "duckdb", "pandas", "pyarrow", "numpy", "psycopg2", "pydantic", "redis", "requests"}
    for argv in (["--help"], ["load", "--help"], ["run", "--help"], ["alerts", "--help"], ["bars", "--help"]):
        modules = _modules_after("from orchestration.cli import main\n"
                                 f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass")
        assert not heavy & {m.split(".")[0] for m in modules}, argv


def test_import_contracts_are_kept():
    out = subprocess.run([str(PROJECT_ROOT / ".venv" / "bin" / "lint-imports")] if (
        PROJECT_ROOT / ".venv" / "bin" / "lint-imports").exists() else [sys.executable, "-m", "importlinter.cli"],
        cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
