"""What goes into the app's image: the locked requirements, and one list of its files (app/.dockerignore)."""

from __future__ import annotations

from pathlib import Path

from constructs_lib.build_context import context_files, source_digest
from tools import image_requirements

APP = Path(__file__).resolve().parents[2] / "app"


def test_the_image_requirements_are_the_lock():
    """app/requirements.txt (what the Dockerfile installs, by hash) is regenerated from Pipfile.lock."""
    assert (APP / "requirements.txt").read_text() == image_requirements.render(), (
        "app/requirements.txt differs from Pipfile.lock: run `python tools/image_requirements.py`"
    )


def test_the_image_requirements_hold_every_runtime_dependency_with_hashes_and_no_test_tool():
    lines = [line for line in (APP / "requirements.txt").read_text().splitlines() if line and not line.startswith(("#", " "))]
    names = {line.split("==")[0].split("[")[0] for line in lines}
    assert {"starlette", "asyncpg", "sqlalchemy", "pydantic", "pydantic-settings", "uvicorn", "uvloop", "setuptools"} <= names
    assert not names & {"pytest", "moto", "playwright", "ruff", "mypy", "cdktf", "authlib"}
    assert (APP / "requirements.txt").read_text().count("--hash=sha256:") >= len(lines)


def _context(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "module.py").write_text("VALUE = 1\n")
    (tmp_path / "pkg" / "__pycache__").mkdir()
    (tmp_path / "pkg" / "__pycache__" / "module.cpython-311.pyc").write_bytes(b"\0")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_module.py").write_text("")
    (tmp_path / "README.md").write_text("read me\n")
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / ".dockerignore").write_text("**/__pycache__\ntests\nREADME.md\nDockerfile\n.dockerignore\n")
    return tmp_path


def test_the_tag_follows_the_dockerignore(tmp_path: Path):
    """Files .dockerignore keeps out of the image do not change its tag; every file it lets in does."""
    context = _context(tmp_path)
    assert [str(path) for path in context_files(context)] == [".dockerignore", "Dockerfile", "pkg/module.py"]
    before = source_digest(context, platform="linux/arm64")
    (context / "README.md").write_text("reworded\n")
    (context / "tests" / "test_module.py").write_text("assert True\n")
    (context / "pkg" / "__pycache__" / "module.cpython-311.pyc").write_bytes(b"\1")
    assert source_digest(context, platform="linux/arm64") == before
    (context / "pkg" / "module.py").write_text("VALUE = 2\n")
    assert source_digest(context, platform="linux/arm64") != before


def test_the_dockerfile_changes_the_tag_even_though_it_is_not_in_the_context(tmp_path: Path):
    """Docker builds with the Dockerfile and .dockerignore whatever .dockerignore says of them."""
    context = _context(tmp_path)
    before = source_digest(context, platform="linux/arm64")
    (context / "Dockerfile").write_text("FROM scratch\nUSER 10001\n")
    assert source_digest(context, platform="linux/arm64") != before


def test_an_exception_line_lets_a_file_back_in(tmp_path: Path):
    context = _context(tmp_path)
    (context / ".dockerignore").write_text("tests\n!tests/test_module.py\n")
    assert "tests/test_module.py" in [str(path) for path in context_files(context)]


def test_the_app_image_context_is_the_app_without_its_tests_and_readme():
    files = {str(path) for path in context_files(APP)}
    assert {"pyproject.toml", "requirements.txt", "livebeats/__init__.py", "livebeats/templates/base.html"} <= files
    assert not {path for path in files if path.startswith("tests/") or "__pycache__" in path or path == "README.md"}
