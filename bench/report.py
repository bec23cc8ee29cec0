#!/usr/bin/env python3
"""Summarises one `bench/load.sh` output directory as Markdown (stdout and report.md) and
JSON (summary.json). Only the standard library; every number comes from the files that
load.sh wrote there: runs.tsv, starts.tsv, batch.tsv, meta.env and the h2load --log-file
latency logs (column 3: microseconds from request start to end of response).
"""

import json
import re
import statistics
import sys
from collections import defaultdict
from datetime import datetime
from pathlib import Path

TARGETS = {
    "get": 0.95,
    "search": 0.85,
    "evaluate": 0.80,
    "health_vs_bare": 0.80,
    "start_ms": 100.0,
    "rss_mib": 32.0,
    "stripped_mib": 20.0,
    "batch_per_s": 50_000.0,
    "large_search": 0.5,
    "large_start_ms": 2000.0,
    "large_rss_mib": 256.0,
}
NAMES = {
    "get": "GetCertificate {id: fcca}",
    "search": "SearchCertificates (mix of 7 queries)",
    "evaluate": "EvaluateEquivalence (typical applicant)",
}


def read_tsv(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def percentile(sorted_values, p):
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


def latencies(files):
    values = []
    for name in files:
        with open(name, encoding="utf-8") as f:
            for line in f:
                cols = line.split("\t")
                if len(cols) >= 3:
                    values.append(int(cols[2]))
    values.sort()
    return values


def basic_view_bytes(out):
    """Answer bytes of each search-mix query in the BASIC view, by the label of the query's
    full-view body: the `view` bodies are called once each, to learn their answer's size."""
    manifest = out / "bodies" / "manifest.tsv"
    sizes = {}
    for line in manifest.read_text(encoding="utf-8").splitlines():
        cols = line.split("\t")
        if line.startswith("#") or len(cols) < 4 or cols[0] != "view":
            continue
        file, label = cols[2], cols[3]
        run = out / "runs" / f"ref-ours-bodies-{file.removesuffix('.bin')}.lat"
        sizes[label.removesuffix(" (BASIC view)")] = answer_bytes([run])
    return sizes


def answer_bytes(lat_files):
    """DATA bytes per call (the gRPC frame prefix included) of the h2load runs whose per-call
    logs these are, from h2load's own summary next to each log; None when none has one."""
    data = calls = 0
    for name in lat_files:
        summary = Path(name).with_suffix(".txt")
        text = summary.read_text(encoding="utf-8") if summary.exists() else ""
        traffic = re.search(r"\((\d+)\) data", text)
        done = re.search(r"requests: \d+ total, \d+ started, (\d+) done", text)
        if traffic and done:
            data += int(traffic.group(1))
            calls += int(done.group(1))
    return round(data / calls) if calls else None


def fmt_bytes(x):
    return "—" if x is None else f"{x:,}"


def fmt_rate(x):
    return f"{x:,.0f}"


def fmt_ms(us):
    return f"{us / 1000:.2f}"


def met(ok):
    return "met" if ok else "**MISSED**"


def main(out):
    out = Path(out)
    meta = dict(
        line.split("=", 1)
        for line in (out / "meta.env").read_text(encoding="utf-8").splitlines()
        if "=" in line
    )

    # (phase, round, tag, server) -> [(label, n, rps, latfile)]
    groups = defaultdict(list)
    cpu = defaultdict(lambda: [0.0, 0])  # (phase, tag, server) -> [server CPU s, calls]
    for phase, rnd, tag, server, label, n, rps, lat, cpu_s in read_tsv(out / "runs.tsv"):
        groups[(phase, int(rnd), tag, server)].append((label, int(n), float(rps), lat))
        key = (phase, "health" if tag.startswith("health") else tag, server)
        cpu[key][0] += float(cpu_s)
        cpu[key][1] += int(n)

    def cpu_us(phase, tag, server):
        seconds, calls = cpu[(phase, tag, server)]
        return seconds / calls * 1e6 if calls else float("nan")

    def throughput(runs):
        """Calls per second over the whole group: a mix run is its calls over its time."""
        calls = sum(n for _, n, _, _ in runs)
        return calls / sum(n / rps for _, n, rps, _ in runs)

    def series(phase, tag, server="ours"):
        """Per-round throughput of one tag, in round order."""
        keys = sorted(k for k in groups if k[0] == phase and k[2] == tag and k[3] == server)
        return {k[1]: throughput(groups[k]) for k in keys}

    def lat_files(phase, tags, server="ours"):
        return [
            lat
            for k, runs in groups.items()
            if k[0] == phase and k[2] in tags and k[3] == server
            for _, _, _, lat in runs
        ]

    health_tags = ["health>get", "health>search", "health>evaluate"]
    rows = []
    summary = {"meta": meta, "methods": {}, "targets": {}}

    def row(key, name, tags, server, ratio=None, target=None, ceiling_tag=None):
        per_round = defaultdict(list)
        for tag in tags:
            for rnd, value in series("pinned", tag, server).items():
                per_round[rnd].append(value)
        values = [v for vs in per_round.values() for v in vs]
        lat = latencies(lat_files("pinned", tags, server))
        ceiling = series("unpinned", ceiling_tag or tags[0], server)
        ceiling_lat = latencies(lat_files("unpinned", [ceiling_tag or tags[0]], server))
        med = statistics.median(values)
        entry = {
            "req_per_s_median": med,
            "req_per_s_min": min(values),
            "req_per_s_max": max(values),
            "runs": len(values),
            "p50_ms": percentile(lat, 50) / 1000,
            "p99_ms": percentile(lat, 99) / 1000,
            "mean_ms": statistics.fmean(lat) / 1000,
            "server_cpu_us_per_call": cpu_us("pinned", "health" if key == "bare_health" else key, server),
            "unpinned_req_per_s": next(iter(ceiling.values()), float("nan")),
            "unpinned_p50_ms": percentile(ceiling_lat, 50) / 1000,
            "unpinned_p99_ms": percentile(ceiling_lat, 99) / 1000,
        }
        if ratio is not None:
            entry["ratio_median"] = statistics.median(ratio)
            entry["ratio_per_round"] = ratio
            entry["target"] = target
            entry["met"] = entry["ratio_median"] >= target
        summary["methods"][key] = entry
        rows.append((name, entry))

    bare = series("pinned", "health", "bare")
    ours_next_to_bare = series("pinned", "health>get")
    ratio_bare = [ours_next_to_bare[r] / bare[r] for r in sorted(bare) if r in ours_next_to_bare]
    row("bare_health", "Health/Check, bare tonic (baseline of the baseline)", ["health"], "bare")
    row(
        "health",
        "Health/Check, certequiv (baseline)",
        health_tags,
        "ours",
        ratio=ratio_bare,
        target=TARGETS["health_vs_bare"],
        ceiling_tag="health",
    )
    for key in ["get", "search", "evaluate"]:
        method = series("pinned", key)
        base = series("pinned", f"health>{key}")
        ratio = [method[r] / base[r] for r in sorted(method) if r in base]
        row(key, NAMES[key], [key], "ours", ratio=ratio, target=TARGETS[key])

    # Per-query breakdown of the search mix.
    per_query = defaultdict(list)
    per_query_lat = defaultdict(list)
    for k, runs in groups.items():
        if k[0] == "pinned" and k[2] == "search":
            for label, _, rps, lat in runs:
                per_query[label].append(rps)
                per_query_lat[label].append(lat)

    starts = []
    for t0, stamp in read_tsv(out / "starts.tsv"):
        at = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
        starts.append((at - float(t0)) * 1000)
    batch_runs = defaultdict(list)  # placement -> [(evaluations/s, server CPU µs each)]
    for phase, items, rate, cpu_s in read_tsv(out / "batch.tsv"):
        batch_runs[phase].append((float(rate), float(cpu_s) / int(items) * 1e6))
    batch = {p: statistics.median(r for r, _ in runs) for p, runs in batch_runs.items()}
    batch_cpu = {p: statistics.median(c for _, c in runs) for p, runs in batch_runs.items()}
    batch_span = {
        p: f"{fmt_rate(min(r for r, _ in runs))}–{fmt_rate(max(r for r, _ in runs))}"
        for p, runs in batch_runs.items()
    }
    rss_kb = max(int(meta.get(k, 0)) for k in ["pinned_rss_kb", "unpinned_rss_kb"])
    stripped = int(meta["stripped_bytes"])
    mib = 1024 * 1024

    resources = [
        (
            "start to SERVING (process start to the `serving` log line), pinned",
            f"median {statistics.median(starts):.1f} ms, max {max(starts):.1f} ms over {len(starts)}",
            f"≤ {TARGETS['start_ms']:.0f} ms",
            max(starts) <= TARGETS["start_ms"],
            "start_ms",
            max(starts),
        ),
        (
            "peak RSS of the server (VmHWM, worst of the pinned and unpinned server)",
            f"{rss_kb / 1024:.1f} MiB (pinned {int(meta['pinned_rss_kb']) / 1024:.1f}, "
            f"unpinned {int(meta['unpinned_rss_kb']) / 1024:.1f}, idle {int(meta['idle_rss_kb']) / 1024:.1f})",
            f"≤ {TARGETS['rss_mib']:.0f} MiB",
            rss_kb / 1024 <= TARGETS["rss_mib"],
            "rss_mib",
            rss_kb / 1024,
        ),
        (
            "release binary, stripped (`strip` of a copy)",
            f"{stripped / mib:.2f} MiB ({stripped:,} B; as built {int(meta['binary_bytes']):,} B)",
            f"≤ {TARGETS['stripped_mib']:.0f} MiB",
            stripped / mib <= TARGETS["stripped_mib"],
            "stripped_mib",
            stripped / mib,
        ),
    ]
    batch_names = {
        "pinned-client-core1": "server on core 0, client on core 1",
        "pinned-same-core": "server and client both on core 0",
        "unpinned": "both unpinned (2 cores, ceiling)",
    }
    for phase in ["pinned-client-core1", "pinned-same-core", "unpinned"]:
        if phase in batch:
            resources.append(
                (
                    f"BatchEvaluate, one stream, {batch_names[phase]}",
                    f"{fmt_rate(batch[phase])} evaluations/s, median of {len(batch_runs[phase])} "
                    f"streams ({batch_span[phase]}); server CPU {batch_cpu[phase]:.1f} µs each",
                    f"≥ {fmt_rate(TARGETS['batch_per_s'])}/s",
                    batch[phase] >= TARGETS["batch_per_s"],
                    f"batch_{phase}",
                    batch[phase],
                )
            )

    lines = []
    say = lines.append
    if meta.get("mode") == "smoke":
        say("> **Smoke run**: one short round with a few hundred calls per run. It checks that")
        say("> the benchmark works; its numbers are not measurements.")
        say("")
    build = meta.get("build_seconds", "?")
    build = f"build {build} s" if build != "skipped" else "build skipped"
    say(
        f"Run of `{meta.get('git_rev')}` on {meta.get('cpu')} ({meta.get('cores')} cores, "
        f"kernel {meta.get('kernel')}), {meta.get('h2load')}; h2load -c {meta.get('clients')} "
        f"-m {meta.get('streams')} -t 1; {meta.get('rounds')} round(s); total "
        f"{meta.get('total_seconds')} s ({build}); load average before/after: "
        f"{meta.get('loadavg_before')} / {meta.get('loadavg_after')}."
    )
    say("")
    extra = f" {meta['server_args']}" if meta.get("server_args") else ""
    variant = f"`certequiv serve --log-level {meta.get('log_level', 'warn')}{extra}`"
    if meta.get("preload") or extra:
        if meta.get("preload"):
            variant += f" with LD_PRELOAD={meta['preload']}"
        variant += " (**diagnostic variant, not the product as shipped**)"
    say(f"Server under load: {variant}.")
    say("")
    say("Pinned: server and h2load both on core 0. Throughput is the median of the per-run")
    say("figures; the ratio is the median of the per-round ratios to the Health/Check run")
    say("just before it on the same server process. Latency percentiles are over every call")
    say("of the pinned runs (h2load --log-file). Server CPU per call is the server process's")
    say("user + system time (/proc/PID/stat) over the pinned runs divided by their calls.")
    say("")
    say("| method | req/s pinned (median) | min–max | p50 ms | p99 ms | server CPU µs/call | ratio (median per round) | target | | req/s unpinned (ceiling) | p50 / p99 ms unpinned |")
    say("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|")
    for name, e in rows:
        if "ratio_median" in e:
            against = "bare tonic" if name.startswith("Health") else "Health/Check"
            ratio = f"{e['ratio_median']:.3f} × {against}"
            target = f"≥ {e['target']:.2f}"
            verdict = met(e["met"])
        else:
            ratio, target, verdict = "—", "—", ""
        say(
            f"| {name} | {fmt_rate(e['req_per_s_median'])} | {fmt_rate(e['req_per_s_min'])}–"
            f"{fmt_rate(e['req_per_s_max'])} | {e['p50_ms']:.2f} | {e['p99_ms']:.2f} | "
            f"{e['server_cpu_us_per_call']:.1f} | {ratio} | "
            f"{target} | {verdict} | {fmt_rate(e['unpinned_req_per_s'])} | "
            f"{e['unpinned_p50_ms']:.2f} / {e['unpinned_p99_ms']:.2f} |"
        )
    say("")
    say("| resource | measured | target | |")
    say("|---|---|---:|---|")
    for name, value, target, ok, key, number in resources:
        say(f"| {name} | {value} | {target} | {met(ok)} |")
        summary["targets"][key] = {"value": number, "met": ok}
    for key in ["health", "get", "search", "evaluate"]:
        e = summary["methods"][key]
        summary["targets"][key] = {"value": e["ratio_median"], "met": e["met"]}
    say("")
    say("Answer size, DATA bytes per call as h2load counted them (the 5-byte gRPC prefix included): "
        + "; ".join(
            f"{name} {fmt_bytes(answer_bytes(lat_files('pinned', tags)))}"
            for name, tags in [
                ("Health/Check", health_tags),
                ("GetCertificate", ["get"]),
                ("EvaluateEquivalence", ["evaluate"]),
            ]
        ))
    say("")
    say("Search mix, per query (pinned, median req/s of the rounds; p50 / p99 ms; answer bytes; "
        "answer bytes of the same query in the BASIC view, from one reference call):")
    say("")
    say("| query | req/s | p50 ms | p99 ms | answer bytes | BASIC view |")
    say("|---|---:|---:|---:|---:|---:|")
    basic = basic_view_bytes(out)
    summary["search_basic_view_bytes"] = {}
    for label in sorted(per_query, key=lambda s: list(per_query).index(s)):
        lat = latencies(per_query_lat[label])
        query = label[label.index("[") + 1 : -1]
        full = answer_bytes(per_query_lat[label])
        summary["search_basic_view_bytes"][query] = {"full": full, "basic": basic.get(label)}
        say(
            f"| {query} | {fmt_rate(statistics.median(per_query[label]))} | "
            f"{fmt_ms(percentile(lat, 50))} | {fmt_ms(percentile(lat, 99))} | "
            f"{fmt_bytes(full)} | {fmt_bytes(basic.get(label))} |"
        )
    say("")
    say("Per-round ratios: " + "; ".join(
        f"{key} " + ", ".join(f"{x:.3f}" for x in summary["methods"][key]["ratio_per_round"])
        for key in ["health", "get", "search", "evaluate"]
    ))
    large_report(out, meta, groups, cpu_us, throughput, say, summary)
    missed = [k for k, t in summary["targets"].items() if not t["met"]]
    say("")
    say("Targets missed: " + (", ".join(missed) if missed else "none"))

    text = "\n".join(lines) + "\n"
    (out / "report.md").write_text(text, encoding="utf-8")
    (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    sys.stdout.write(text)


def large_report(out, meta, groups, cpu_us, throughput, say, summary):
    """The large-catalog stage: start, memory, and the search mix against Health/Check."""
    starts_file = out / "large-starts.tsv"
    if "large_entries" not in meta or not starts_file.exists():
        return
    entries = int(meta["large_entries"])
    mib = 1024

    def series(tag):
        keys = sorted(k for k in groups if k[0] == "large" and k[2] == tag)
        return {k[1]: throughput(groups[k]) for k in keys}

    health, search = series("health>search"), series("search")
    ratio = [search[r] / health[r] for r in sorted(search) if r in health]
    starts = {}
    for placement, t0, stamp, rss_kb, hwm_kb in read_tsv(starts_file):
        at = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
        starts[placement] = ((at - float(t0)) * 1000, int(rss_kb), int(hwm_kb))
    hwm = max([int(meta["large_hwm_kb"])] + [h for _, _, h in starts.values()])
    # Judged on the slower launch: pinned to one core, or with both cores.
    start_ms = max(ms for ms, _, _ in starts.values())
    say("")
    say(
        f"Large catalog: one synthetic file of {entries:,} entries "
        f"({int(meta['large_file_bytes']) / 1e6:.1f} MB of JSON Lines), `certequiv serve "
        f"--catalog-dir DIR --default-jurisdiction 合成测试`; search mix of "
        f"{len(groups.get(('large', 1, 'search', 'ours'), []))} queries built from entry syn-000500:"
    )
    say("")
    say("| large catalog | measured | target | |")
    say("|---|---|---:|---|")
    rows = [
        (
            "SearchCertificates (mix) vs Health/Check, same server, pinned",
            f"{statistics.median(ratio):.3f} (per round: {', '.join(f'{x:.3f}' for x in ratio)}); "
            f"{fmt_rate(statistics.median(search.values()))} vs "
            f"{fmt_rate(statistics.median(health.values()))} req/s; server CPU "
            f"{cpu_us('large', 'search', 'ours'):.1f} vs {cpu_us('large', 'health', 'ours'):.1f} µs/call",
            f"≥ {TARGETS['large_search']:.2f}",
            statistics.median(ratio) >= TARGETS["large_search"],
            "large_search",
            statistics.median(ratio),
        ),
        (
            "start to SERVING (unpinned: both cores; pinned to one core)",
            f"{starts['unpinned'][0]:.0f} ms unpinned, {starts['pinned'][0]:.0f} ms pinned",
            f"≤ {TARGETS['large_start_ms']:.0f} ms",
            start_ms <= TARGETS["large_start_ms"],
            "large_start_ms",
            start_ms,
        ),
        (
            "resident size: after load (VmRSS) / peak incl. loading and the runs (VmHWM)",
            f"{starts['unpinned'][1] / mib:.0f} MiB / {hwm / mib:.0f} MiB",
            f"≤ {TARGETS['large_rss_mib']:.0f} MiB",
            hwm / mib <= TARGETS["large_rss_mib"],
            "large_rss_mib",
            hwm / mib,
        ),
    ]
    for name, value, target, ok, key, number in rows:
        say(f"| {name} | {value} | {target} | {met(ok)} |")
        summary["targets"][key] = {"value": number, "met": ok}
    per_query = defaultdict(list)
    per_query_lat = defaultdict(list)
    for k, runs in groups.items():
        if k[0] == "large" and k[2] == "search":
            for label, _, rps, lat in runs:
                per_query[label].append(rps)
                per_query_lat[label].append(lat)
    say("")
    say("Large-catalog search mix, per query (median req/s, answer bytes): " + "; ".join(
        f"{label[label.index('[') + 1 : -1]} {fmt_rate(statistics.median(v))}"
        f" ({fmt_bytes(answer_bytes(per_query_lat[label]))} B)"
        for label, v in per_query.items()
    ))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: report.py OUTPUT_DIR")
    main(sys.argv[1])
