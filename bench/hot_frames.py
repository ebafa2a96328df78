"""Where a profiled localbroker spent its CPU: the functions of a py-spy profile, hottest first.

    python bench/hot_frames.py PROFILE.txt [--top 25]

PROFILE.txt holds collapsed stacks (`frame;frame;... count`), as `bench/throughput.py --profile`
writes them with py-spy (which samples only running threads, so samples are CPU time). Two
lists: self time (samples where the function itself was on top: the code that costs) and
total time (samples where it was anywhere on the stack: the path that leads there).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

LINE_NUMBER = re.compile(r":\d+\)$")


def frames(stack: str) -> list[str]:
    """The stack's frames, outermost first, each `function (file)` without its line number
    (the process's own leading entry dropped)."""
    return [LINE_NUMBER.sub(")", frame) for frame in stack.split(";")[1:]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    own: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    total = 0
    for line in args.profile.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples = int(count)
        total += samples
        seen = frames(stack)
        if seen:
            own[seen[-1]] += samples
        for frame in set(seen):
            anywhere[frame] += samples
    print(f"{total} samples")
    for title, counter in (("self", own), ("total", anywhere)):
        print(f"\n{title}:")
        for frame, samples in counter.most_common(args.top):
            print(f"{100 * samples / total:5.1f}%  {frame}")


if __name__ == "__main__":
    main()
