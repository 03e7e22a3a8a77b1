"""Print max |a| / std per layer at the four outlier sites (crest_edge.devtools.activations) of any
XLM-R checkpoint, on 100 texts spread over the seed set, as a markdown table:

    python scripts/activation_stats.py CHECKPOINT_DIR [CHECKPOINT_DIR ...] [--texts 100] [--corpus FILE.jsonl]
"""

from __future__ import annotations

import argparse
import sys

from crest_edge.devtools.activations import DEFAULT_TEXTS, markdown, measure, sample_texts
from crest_edge.errors import CrestEdgeError


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+", metavar="CHECKPOINT_DIR")
    parser.add_argument("--texts", type=int, default=DEFAULT_TEXTS, help="how many texts (default 100)")
    parser.add_argument("--corpus", metavar="FILE.jsonl", help="where the texts come from (default: the seed set)")
    args = parser.parse_args(argv)
    try:
        texts = sample_texts(args.texts, args.corpus)
        for path in args.checkpoints:
            print(markdown(measure(path, texts)) + "\n")
    except CrestEdgeError as exc:
        print(f"activation_stats: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
