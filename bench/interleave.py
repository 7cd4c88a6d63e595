"""Before and after on a noisy machine: one bench run in two checkouts, taking turns.

Run by hand from the repository root, with the "before" checkout beside it (for example
`git worktree add ../before <commit>`, then `uv sync` there):

    uv run python -m bench.interleave --before ../before --runs 4 -- \
        python -m bench.reply_cost_bench --kinds server --idle 20 --single 3

Each run runs the command with `uv run` in one checkout, then in the other (the "after" one is
`--after`, this checkout by default), `--runs` times, so that both meet the same moments of the
machine's load. It reads the markdown table the command prints (the last column of each row
is the verdict of the first server column, as `bench.reply_cost_bench` prints it) and prints,
for every figure, each run's value of the first server column, and their median, before and
after.
"""

import argparse
import re
import statistics
import subprocess
from collections import defaultdict
from pathlib import Path

ROW = re.compile(r"^\| (?P<figure>[^|]+?) \| (?P<value>[^|]+?) \|")
NUMBER = re.compile(r"(?P<number>[\d,]+(?:\.\d+)?) ?(?P<unit>µs|ms|s|KiB)\b")
TO_BASE = {"µs": 1e-3, "ms": 1.0, "s": 1e3, "KiB": 1.0}
"""Times in milliseconds, memory in KiB."""


def figures(output: str) -> dict[str, str]:
    """The first value column of every table row of a bench's output, by figure."""
    values = {}
    for line in output.splitlines():
        match = ROW.match(line)
        if match and not match["figure"].startswith(("figure", "---")):
            values[match["figure"]] = match["value"]
    return values


def number(value: str) -> float | None:
    """A cell's first number, in milliseconds or KiB; None when it holds none."""
    match = NUMBER.search(value)
    if match is None:
        return None
    return float(match["number"].replace(",", "")) * TO_BASE[match["unit"]]


def run(checkout: Path, command: list[str]) -> dict[str, str]:
    """The figures of one run of the command in the checkout.

    Raises:
        RuntimeError: The command failed.
    """
    done = subprocess.run(
        ["uv", "run", *command], cwd=checkout, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed in {checkout}:\n{done.stderr[-2000:]}")
    return figures(done.stdout)


def main() -> None:
    """Run the command in both checkouts in turn; print each figure before and after."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the checkout before")
    parser.add_argument("--after", type=Path, default=Path(), help="the checkout after")
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the bench command")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the bench command after --")
    seen: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for turn in range(args.runs):
        for label, checkout in (("before", args.before), ("after", args.after)):
            for figure, value in run(checkout, command).items():
                seen[figure][label].append(value)
            print(f"run {turn + 1}/{args.runs} {label} done", flush=True)
    print("\n| figure | before, each run | after, each run | median before → after |")
    print("|---|---|---|---|")
    for figure, by_label in seen.items():
        medians = []
        for label in ("before", "after"):
            numbers = [n for n in map(number, by_label[label]) if n is not None]
            medians.append(f"{statistics.median(numbers):,.2f}" if numbers else "-")
        before, after = ("; ".join(by_label[label]) for label in ("before", "after"))
        print(f"| {figure} | {before} | {after} | {medians[0]} → {medians[1]} |")
    print("\n(medians in ms for times, KiB for memory)")


if __name__ == "__main__":
    main()
