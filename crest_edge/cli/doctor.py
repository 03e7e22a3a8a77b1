"""`crest-edge doctor`: print crest_edge.doctor's report as a table or JSON."""

from __future__ import annotations

import json


def add_parser(sub) -> None:
    p = sub.add_parser("doctor", help="engines, devices, precisions and CPU features of this machine")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=handle)


def handle(args) -> int:
    from crest_edge.doctor import doctor_report

    report = doctor_report()
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0


def render(report: dict) -> str:
    from crest_edge.cpu import amx_note

    isa = "; ".join(filter(None, [report["cpu"]["isa"], amx_note(report["cpu"].get("amx"))]))
    lines = [
        f"crest-edge {report['crest_edge']}  python {report['python']}  {report['platform']}",
        f"CPU: best ISA {isa}; flags: {' '.join(report['cpu']['flags']) or 'none detected'}",
        "",
        f"{'engine':<9} {'installed':<10} {'versions':<44} devices / capabilities",
    ]
    for engine, row in report["engines"].items():
        versions = ", ".join(f"{k} {v}" for k, v in row["versions"].items()) or "-"
        if not row["installed"]:
            detail = f"pip install 'crest-edge[{row['extra']}]'"
        elif "error" in row:
            detail = "error: " + row["error"]
        else:
            shown = [(k, v) for k, v in row.items() if k not in ("installed", "extra", "versions", "devices")]
            extras = [f"{k}: {_short(v)}" for k, v in shown]
            detail = "; ".join([", ".join(row.get("devices", []))] + extras)
        lines.append(f"{engine:<9} {'yes' if row['installed'] else 'no':<10} {versions:<44} {detail}")
    return "\n".join(lines)


def _short(value) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}={_short(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)
