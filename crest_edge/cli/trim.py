"""`crest-edge trim`: a smaller checkpoint for the languages an app serves."""

from __future__ import annotations

from .argtypes import threads, whole


def add_parser(sub) -> None:
    from ..trim.scripts import PACKS

    p = sub.add_parser(
        "trim",
        help="write a checkpoint whose vocabulary keeps only what the given languages or corpora use",
        epilog="packs: "
        + "; ".join(f"{name} = {' '.join(codes)}" for name, codes in PACKS.items())
        + ". Kept: every piece of the languages' scripts (and Common / Inherited characters), every "
        "special and single-character piece, pieces --corpus uses, the --keep N highest-scored pieces. "
        "A Guard on the result measures how much of each text falls outside and, above a threshold, "
        "flags it unsafe by default (see the README).",
    )
    p.add_argument("src", help="Hugging Face XLMRobertaForSequenceClassification checkpoint directory")
    p.add_argument("--out", required=True, help="directory for the trimmed checkpoint")
    p.add_argument("--languages", metavar="LIST", help="comma-separated language codes and/or pack names")
    p.add_argument("--corpus", nargs="+", default=[], metavar="FILE", help="JSONL (text field) or text files")
    p.add_argument("--keep", type=whole(0, 10_000_000), default=0, metavar="N", help="also keep the N top pieces")
    p.add_argument("--min-count", type=whole(1, 10_000_000), default=1, metavar="C", help="corpus uses needed")
    p.add_argument("--force", action="store_true", help="replace --out if it is a trimmed checkpoint")
    p.add_argument("--check", action="store_true", help="compare with the untrimmed fp32 model per language")
    p.add_argument("--threads", type=threads, help="CPU threads for --check")
    p.set_defaults(handler=handle)


def handle(args) -> int:
    from ..benchmark.artifacts import size_mb
    from ..trim.build import trim

    languages = [x for x in (args.languages or "").replace(" ", ",").split(",") if x]
    result = trim(args.src, args.out, languages, args.corpus, args.keep, args.min_count, force=args.force)
    record = result.record
    print(
        f"wrote {result.path}: {record['pieces_kept']:,} of {record['pieces_before']:,} pieces kept, "
        f"{result.parameters_after / 1e6:.1f}M of {result.parameters_before / 1e6:.1f}M parameters, "
        f"{size_mb(result.path):.1f} MB; scripts {' '.join(record['scripts'])}"
    )
    if not args.check:
        return 0
    from ..trim.check import check_trim

    report = check_trim(args.src, result.path, threads=args.threads)
    print(f"{'lang':<8} {'n':>4} {'changed':>7} {'guarded':>7} {'agreement':>9} {'max |Δp|':>9}")
    for lang, f in [*report["by_lang"].items(), ("all", report["overall"])]:
        agreement = f"{f['agreement']:.2%}" if "agreement" in f else "-"
        dp = f"{f['max_dp']:.3g}" if "max_dp" in f else "-"
        print(f"{lang:<8} {f['n']:>4} {f['changed_tokenization']:>7} {f['guarded']:>7} {agreement:>9} {dp:>9}")
    overall = report["overall"]
    print(
        f"{'PASS' if report['passed'] else 'FAIL'}: on the lines the model decides (outside <= "
        f"{report['outside_threshold']:g}), gates agreement >= 99.9%, max |Δp| <= 0.01; unchanged "
        f"tokenizations max |Δ logit| {overall['unchanged_max_dlogit']:.2g} (needs <= 1e-5)"
    )
    return 0 if report["passed"] else 1
