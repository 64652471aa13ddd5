"""tools/gen_bench_docs.py: doc blocks rendered from the committed benchmark JSON, and --check catching drift."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_bench_docs", ROOT / "tools" / "gen_bench_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = _tool()


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    docs, results = tmp_path / "docs", tmp_path / "results"
    docs.mkdir()
    shutil.copytree(ROOT / "bench" / "results", results)
    stale = "<!-- bench:image-serving -->\nstale: ONNX step 0.42-0.50x torch\n<!-- /bench -->\n"
    (docs / "page.md").write_text(f"# Page\n\nBefore.\n\n{stale}\nAfter.\n")
    return docs, results


def test_a_stale_block_fails_check_with_a_diff_and_is_rewritten(
    tree: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    docs, results = tree
    args = ["--docs", str(docs), "--results", str(results)]
    assert gen.main(["--check", *args]) == 1
    out = capsys.readouterr()
    assert "-stale: ONNX step 0.42-0.50x torch" in out.out and "stale benchmark figures" in out.err
    assert "stale:" in (docs / "page.md").read_text(), "--check must not rewrite"

    assert gen.main(args) == 0
    text = (docs / "page.md").read_text()
    onnx_over_torch = json.loads((results / "image.json").read_text())["onnx_over_torch_step"]
    assert f"| ONNX Runtime step / torch step | **{onnx_over_torch:.2f}x** |" in text
    assert text.startswith("# Page\n\nBefore.\n") and text.endswith("<!-- /bench -->\n\nAfter.\n")
    assert gen.main(["--check", *args]) == 0


def test_a_changed_result_makes_the_doc_stale(tree: tuple[Path, Path]) -> None:
    docs, results = tree
    args = ["--docs", str(docs), "--results", str(results)]
    assert gen.main(args) == 0 and gen.main(["--check", *args]) == 0
    data = json.loads((results / "image.json").read_text())
    data["onnx_over_torch_step"] = 0.5
    (results / "image.json").write_text(json.dumps(data))
    assert gen.main(["--check", *args]) == 1


def test_unknown_or_unclosed_blocks_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="unknown bench block"):
        gen.render_text("<!-- bench:nope -->\n<!-- /bench -->\n", ROOT / "bench" / "results")
    with pytest.raises(SystemExit, match="not closed"):
        gen.render_text("<!-- bench:image-serving -->\nno end\n", ROOT / "bench" / "results")


def test_every_renderer_reads_the_committed_results() -> None:
    for name, render in gen.RENDERERS.items():
        assert render(ROOT / "bench" / "results").strip(), name


def test_committed_docs_are_current() -> None:
    assert gen.main(["--check"]) == 0
