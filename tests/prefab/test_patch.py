"""The unified-diff parser and applier: what applies, and the messages when it does not."""

from __future__ import annotations

import pytest

from deluge_ray.tool.prefab._patch import PatchError, apply_hunks, parse_hunks, parse_unified_diff

ORIGINAL = "".join(f"line {n}\n" for n in range(1, 11))


def test_git_style_multi_file_patch_parses_paths_and_hunks() -> None:
    patch = (
        "diff --git a/x.py b/x.py\n"
        "index 123..456 100644\n"
        "--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,2 @@\n a\n-b\n+B\n"
        "diff --git a/y.py b/y.py\n"
        "--- a/y.py\n+++ /dev/null\n"
        "--- /dev/null\n+++ b/z.py\n@@ -0,0 +1 @@\n+z\n"
    )
    parsed = parse_unified_diff(patch)
    assert [(p.old_path, p.new_path) for p in parsed] == [
        ("x.py", "x.py"),
        ("y.py", None),
        (None, "z.py"),
    ]
    assert parsed[0].hunks[0].old_lines == ["a", "b"]
    assert parsed[0].hunks[0].new_lines == ["a", "B"]


def test_hunk_applies_at_shifted_position_and_keeps_later_hunks_in_step() -> None:
    # Header line numbers are off by two (the file grew); context matching still finds it.
    patch = (
        "--- a/f\n+++ b/f\n"
        "@@ -1,2 +1,3 @@\n line 1\n+inserted\n line 2\n"
        "@@ -7,2 +8,2 @@\n line 7\n-line 8\n+LINE 8\n"
    )
    [fp] = parse_unified_diff(patch)
    out = apply_hunks(ORIGINAL, fp.hunks, path="f").splitlines()
    assert out[:3] == ["line 1", "inserted", "line 2"]
    assert out[8] == "LINE 8"
    assert len(out) == 11


def test_mismatch_names_the_hunk_and_shows_expected_and_actual_lines() -> None:
    patch = "--- a/f\n+++ b/f\n@@ -3,2 +3,2 @@\n line 3\n-line four\n+LINE 4\n"
    [fp] = parse_unified_diff(patch)
    with pytest.raises(PatchError) as info:
        apply_hunks(ORIGINAL, fp.hunks, path="f")
    message = str(info.value)
    assert "Hunk 1 (@@ -3,2 +3,2 @@)" in message
    assert "'f'" in message
    assert "line four" in message  # what the patch expected
    assert "line 4" in message  # what the file has there


def test_hunk_counts_that_promise_more_lines_than_the_body_has_are_rejected() -> None:
    with pytest.raises(PatchError, match="ends early"):
        parse_unified_diff("--- a/f\n+++ b/f\n@@ -1,5 +1,5 @@\n line 1\n")


@pytest.mark.parametrize(
    ("patch", "needle"),
    [
        ("", "empty"),
        ("just some prose\n", "No file changes"),
        ("@@ -1 +1 @@\n-a\n+b\n", "before any file header"),
        ("--- a/f\nnot a plus line\n", "not followed by a '\\+\\+\\+'"),
        ("--- a/f\n+++ b/f\nno hunks here\n", "no '@@' hunks"),
    ],
)
def test_malformed_patches_get_specific_messages(patch: str, needle: str) -> None:
    with pytest.raises(PatchError, match=needle):
        parse_unified_diff(patch)


def test_v4a_style_hunks_without_line_numbers_apply_by_context() -> None:
    hunks = parse_hunks("@@\n line 5\n-line 6\n+six\n", path="f")
    assert apply_hunks(ORIGINAL, hunks, path="f").splitlines()[5] == "six"
    creation = parse_hunks("+a\n+b\n", path="new")
    assert apply_hunks("", creation, path="new") == "a\nb\n"


def test_missing_final_newline_is_preserved_and_markers_are_honoured() -> None:
    [fp] = parse_unified_diff("--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n")
    assert apply_hunks("a\nb", fp.hunks, path="f") == "a\nc"
    marked = "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n\\ No newline at end of file\n"
    [fp] = parse_unified_diff(marked)
    assert apply_hunks("a\n", fp.hunks, path="f") == "b"
