#!/usr/bin/env python3
"""options_doc.py - the option lists in docs/, written from the programs' own --help.

Every option of aofroll-collector and of each aofroll subcommand is declared
once, in a table in its source (common/opt.h) that both parses the command
line and prints --help. The docs carry that --help output between two markers:

    <!-- options: aofroll restore -->
    ```text
    $ aofroll restore --help
    ...
    ```
    <!-- /options -->

This script rewrites those blocks from the built programs, or with --check
says which block differs (exit 1) and that every program and subcommand has
exactly one block. tests/it_options.sh runs the check.

    scripts/options_doc.py BINDIR            # rewrite the blocks in docs/*.md
    scripts/options_doc.py --check BINDIR    # exit 1 when a block is stale or missing
"""
import glob
import os
import re
import subprocess
import sys

BLOCK = re.compile(r"(<!-- options: ([^>]+?) -->\n)(.*?)(<!-- /options -->\n)", re.S)


def help_text(bindir, program):
    words = program.split()
    out = subprocess.run([os.path.join(bindir, words[0])] + words[1:] + ["--help"],
                         check=True, capture_output=True, text=True).stdout
    return "```text\n$ %s --help\n%s```\n" % (program, out)


def programs(bindir):
    """aofroll-collector and every subcommand that `aofroll --help` lists."""
    out = subprocess.run([os.path.join(bindir, "aofroll"), "--help"], check=True, capture_output=True,
                         text=True).stdout
    names = re.findall(r"^  (\S+) ", out.split("commands:\n", 1)[1], re.M)
    return ["aofroll-collector"] + ["aofroll " + n for n in names]


def main(argv):
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    if len(args) != 1:
        sys.stderr.write(__doc__)
        return 2
    bindir = args[0]
    docs = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs")
    seen = {}
    stale = []
    for path in sorted(glob.glob(os.path.join(docs, "*.md"))):
        with open(path, encoding="utf-8") as f:
            text = f.read()

        def fill(m):
            program = m.group(2).strip()
            seen.setdefault(program, []).append(os.path.basename(path))
            want = help_text(bindir, program)
            if m.group(3) != want:
                stale.append("docs/%s: the options of \"%s\" differ from its --help" %
                             (os.path.basename(path), program))
            return m.group(1) + want + m.group(4)

        new = BLOCK.sub(fill, text)
        if not check and new != text:
            with open(path, "w", encoding="utf-8") as f:
                f.write(new)
    problems = list(stale) if check else []
    for program in programs(bindir):
        where = seen.pop(program, [])
        if len(where) != 1:
            problems.append("\"%s\": %d option blocks in docs/ (%s), expected one" %
                            (program, len(where), ", ".join(where) or "none"))
    for program, where in seen.items():
        problems.append("docs/%s: an option block for \"%s\", which is no command" % (where[0], program))
    for p in problems:
        print("options_doc: " + p, file=sys.stderr)
    if problems and check:
        print("options_doc: HINT: scripts/options_doc.py BINDIR rewrites the blocks", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
