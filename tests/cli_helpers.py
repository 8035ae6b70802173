"""Helpers of the CLI tests: run ``longtrack`` in-process and read its one-line errors."""
from longtrack.cli import main


def run_cli(capsys, *argv):
    """``(exit code, stdout, stderr)`` of ``longtrack ARGV``."""
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line(err: str) -> str:
    """The single ``longtrack: error: ...`` line of ``err`` (asserts there is exactly one)."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("longtrack: error: "), err
    return lines[0]
