#!/usr/bin/env bash
# Reproducible load benchmark of the certequiv gRPC server (see docs/performance.md).
#
#   bash bench/load.sh            full run: build, >= 3 alternating rounds, ceiling, report
#   bash bench/load.sh --smoke    one short round of everything, for CI (well under a minute
#                                 after the build)
#   bash bench/load.sh --no-build reuse the release binaries already in the target dir
#
# Everything runs on loopback (127.0.0.1) against servers this script starts and stops.
# Ratio runs pin both the server and h2load to core 0 (`taskset -c 0`); the unpinned 2-core
# runs are reported as the ceiling only. Every h2load run is verified against the server's
# own /metrics (a gRPC error is an HTTP 200, which h2load counts as a success) and against
# the response bytes; a run that was shed or failed is refused and the script exits non-zero.
#
# Knobs (environment): BENCH_ROUNDS, BENCH_SECONDS (target length of one measured run),
# BENCH_CLIENTS / BENCH_STREAMS (h2load -c / -m), BENCH_BATCH (items in the BatchEvaluate
# stream), BENCH_STARTS (launches timed for start-to-SERVING), BENCH_OUT (output directory),
# BENCH_LARGE (entries of the synthetic catalog of the large-catalog stage: 100000, smoke
# 2000; 0 skips the stage), BENCH_LARGE_SEED (its seed, 1).
# Diagnostics only (the report names them): BENCH_LOG_LEVEL (the load servers' --log-level,
# default warn), BENCH_PRELOAD (an LD_PRELOAD library for `certequiv serve`, e.g. a shim that
# changes socket options), BENCH_SERVER_ARGS (extra arguments for `certequiv serve`, split on
# spaces).
set -euo pipefail

smoke=0
build=1
for arg in "$@"; do
  case "$arg" in
    --smoke) smoke=1 ;;
    --no-build) build=0 ;;
    -h | --help)
      awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
      exit 0
      ;;
    *)
      echo "load.sh: unknown argument: $arg (try --help)" >&2
      exit 2
      ;;
  esac
done

script_started=$EPOCHREALTIME
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

if ((smoke)); then
  rounds=${BENCH_ROUNDS:-1}
  batch_items=${BENCH_BATCH:-10000}
  starts=${BENCH_STARTS:-1}
  fixed_n=${BENCH_SMOKE_N:-400}
  batch_repeats=1
  large_entries=${BENCH_LARGE:-2000}
else
  rounds=${BENCH_ROUNDS:-5}
  batch_items=${BENCH_BATCH:-100000}
  starts=${BENCH_STARTS:-5}
  fixed_n=0
  batch_repeats=${BENCH_BATCH_REPEATS:-3}
  large_entries=${BENCH_LARGE:-100000}
fi
large_seed=${BENCH_LARGE_SEED:-1}
seconds=${BENCH_SECONDS:-2.5}
clients=${BENCH_CLIENTS:-4}
streams=${BENCH_STREAMS:-16}
warm_n=${BENCH_WARM_N:-2000}
min_n=${BENCH_MIN_N:-1000}
max_n=${BENCH_MAX_N:-200000}
load_level=${BENCH_LOG_LEVEL:-warn}
preload=${BENCH_PRELOAD:-}
read -r -a server_args <<<"${BENCH_SERVER_ARGS:-}"
if [ -n "$preload" ] && [ ! -r "$preload" ]; then
  echo "load.sh: BENCH_PRELOAD=$preload is not readable" >&2
  exit 2
fi

die() {
  echo "load.sh: REFUSED: $*" >&2
  [ -n "${out:-}" ] && echo "load.sh: evidence kept in $out" >&2
  exit 1
}
note() { echo "==> $*"; }

# ---------------------------------------------------------------- build and tools
if ((build)); then
  note "building release binaries"
  build_started=$EPOCHREALTIME
  cargo build --release --locked -p certequiv-server \
    --bin certequiv --example bare_health --example encode_bodies --example batch_client
  # A command of its own: built together, the generator's feature would reach the server binary
  # too, and the benchmark would not run the binary a plain release build makes.
  cargo build --release --locked -p certequiv-storage --features synthetic \
    --example synthetic_catalog
  build_seconds=$(awk -v a="$build_started" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}')
else
  build_seconds=skipped
fi

if ! command -v h2load >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    die "h2load is missing; as root run: apt-get update && apt-get install -y nghttp2-client"
  fi
  note "installing h2load (nghttp2-client)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nghttp2-client >/dev/null
fi
for tool in h2load taskset curl python3 strip; do
  command -v "$tool" >/dev/null || die "$tool is required and not installed"
done

target_dir=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target_dir/release/certequiv"
bare_bin="$target_dir/release/examples/bare_health"
encode_bin="$target_dir/release/examples/encode_bodies"
batch_bin="$target_dir/release/examples/batch_client"
synthetic_bin="$target_dir/release/examples/synthetic_catalog"
for b in "$bin" "$bare_bin" "$encode_bin" "$batch_bin" "$synthetic_bin"; do
  [ -x "$b" ] || die "$b is not built (run without --no-build)"
done

mode=$([ "$smoke" = 1 ] && echo smoke || echo full)
out=${BENCH_OUT:-$target_dir/bench/load-$mode-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out/runs" "$out/bodies"
: >"$out/runs.tsv"
: >"$out/starts.tsv"
: >"$out/batch.tsv"
meta="$out/meta.env"
{
  echo "mode=$mode"
  echo "git_rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo +dirty)"
  echo "h2load=$(h2load --version | head -1)"
  echo "cpu=$(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
  echo "cores=$(nproc)"
  echo "kernel=$(uname -r)"
  echo "clients=$clients"
  echo "streams=$streams"
  echo "rounds=$rounds"
  echo "build_seconds=$build_seconds"
  echo "log_level=$load_level"
  echo "preload=$preload"
  echo "server_args=${BENCH_SERVER_ARGS:-}"
  echo "loadavg_before=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "binary_bytes=$(stat -c %s "$bin")"
} >"$meta"
cp "$bin" "$out/certequiv.stripped"
strip "$out/certequiv.stripped"
echo "stripped_bytes=$(stat -c %s "$out/certequiv.stripped")" >>"$meta"
rm -f "$out/certequiv.stripped"

note "encoding request bodies from the protos"
bodies_dir="$out/bodies"
"$encode_bin" "$bodies_dir" >/dev/null
manifest="$bodies_dir/manifest.tsv"

# ---------------------------------------------------------------- processes
started_pids=()
cleanup() {
  for pid in "${started_pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${started_pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop() { # pid
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 150); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

clk_tck=$(getconf CLK_TCK)
# CPU time (user + system, clock ticks) a process has used so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

peak_rss_kb() { awk '/^VmHWM:/{print $2}' "/proc/$1/status"; }

# start_ours NAME PINNED(0|1) LOG_LEVEL [SERVE_ARGS...]: sets ours_pid, ours_port, ours_mport
start_ours() {
  local name=$1 pinned=$2 level=$3 attempt pin=()
  shift 3
  ((pinned)) && pin=(taskset -c 0)
  for attempt in 1 2 3; do
    ours_port=$(free_port)
    ours_mport=$(free_port)
    [ "$ours_port" != "$ours_mport" ] || continue
    (
      [ -n "$preload" ] && export LD_PRELOAD="$preload"
      echo "$EPOCHREALTIME" >"$out/$name.t0"
      exec "${pin[@]}" "$bin" serve --listen "127.0.0.1:$ours_port" \
        --metrics-listen "127.0.0.1:$ours_mport" --http-listen 127.0.0.1:0 --log-level "$level" \
        "$@" "${server_args[@]}"
    ) >"$out/$name.log" 2>&1 &
    ours_pid=$!
    started_pids+=("$ours_pid")
    for _ in $(seq 1200); do
      kill -0 "$ours_pid" 2>/dev/null || break
      if curl -sf "http://127.0.0.1:$ours_mport/metrics" >/dev/null 2>&1; then
        return 0
      fi
      sleep 0.05
    done
    stop "$ours_pid"
    echo "load.sh: $name did not come up (attempt $attempt), log:" >&2
    tail -5 "$out/$name.log" >&2
  done
  die "could not start $name"
}

# start_bare NAME PINNED: sets bare_pid, bare_port
start_bare() {
  local name=$1 pinned=$2 attempt pin=()
  ((pinned)) && pin=(taskset -c 0)
  for attempt in 1 2 3; do
    bare_port=$(free_port)
    "${pin[@]}" "$bare_bin" "127.0.0.1:$bare_port" >"$out/$name.log" 2>&1 &
    bare_pid=$!
    started_pids+=("$bare_pid")
    for _ in $(seq 200); do
      kill -0 "$bare_pid" 2>/dev/null || break
      grep -q '^serving' "$out/$name.log" && return 0
      sleep 0.05
    done
    stop "$bare_pid"
    echo "load.sh: $name did not come up (attempt $attempt)" >&2
  done
  die "could not start $name"
}

# ---------------------------------------------------------------- metrics
# Prints "service/method code value" for each grpc_server_handled_total series.
handled() {
  curl -sf "http://127.0.0.1:$1/metrics" | awk '
    /^grpc_server_handled_total\{/ {
      s = $0; sub(/.*grpc_service="/, "", s); sub(/".*/, "", s)
      m = $0; sub(/.*grpc_method="/, "", m); sub(/".*/, "", m)
      c = $0; sub(/.*grpc_code="/, "", c); sub(/".*/, "", c)
      print s "/" m, c, $NF
    }'
}

# check_delta BEFORE AFTER METHOD N: the only change is METHOD OK += N.
check_delta() {
  awk -v method="$3" -v n="$4" '
    FILENAME == ARGV[1] { before[$1 " " $2] = $3; next }
    { after[$1 " " $2] = $3 }
    END {
      bad = ""; total = 0; ok = 0
      for (k in after) {
        d = after[k] - before[k]; total += d
        split(k, p, " ")
        if (p[1] ~ ("/" method "$") && p[2] == "OK") ok += d
        else if (d != 0) bad = bad " " k "+" d
      }
      if (ok != n || total != n || bad != "") {
        printf "server metrics: %s OK +%d (want +%d), all codes +%d;%s\n", method, ok, n, total, (bad == "" ? "" : " unexpected:" bad)
        exit 1
      }
    }' "$1" "$2"
}

# ---------------------------------------------------------------- h2load
# parse_h2load FILE -> "done succeeded failed errored timeout status2xx data_bytes req_per_s"
parse_h2load() {
  awk '
    /^requests:/ { done = $6; ok = $8; failed = $10; errored = $12; timeout = $14 }
    /^status codes:/ { s2 = $3 }
    /^traffic:/ { for (i = 1; i <= NF; i++) if ($i == "data") { d = $(i - 1); gsub(/[()]/, "", d) } }
    /^finished in/ { for (i = 1; i <= NF; i++) if ($i == "req/s,") r = $(i - 1) }
    END { print done + 0, ok + 0, failed + 0, errored + 0, timeout + 0, s2 + 0, d + 0, r + 0 }' "$1"
}

declare -A size    # "server|file" -> response data bytes of one call
declare -A n_for   # group -> requests per measured run (per body for search)

# h2 RUN_ID SERVER(ours|bare) PINNED FILE N: runs h2load and prints req/s.
h2() {
  local id=$1 server=$2 pinned=$3 file=$4 n=$5 port path method c m pin=()
  path=$(awk -F'\t' -v f="$file" '$3 == f { print $2 }' "$manifest")
  method=${path##*/}
  ((pinned)) && pin=(taskset -c 0)
  if [ "$server" = ours ]; then port=$ours_port; else port=$bare_port; fi
  c=$clients m=$streams
  ((n < c)) && c=$n
  ((n < c * m)) && m=1
  [ "$server" = ours ] && handled "$ours_mport" >"$out/runs/$id.before"
  local pid cpu_before
  if [ "$server" = ours ]; then pid=$ours_pid; else pid=$bare_pid; fi
  cpu_before=$(cpu_ticks "$pid")
  "${pin[@]}" h2load -n "$n" -c "$c" -m "$m" -t 1 \
    -H 'content-type: application/grpc' -H 'te: trailers' \
    -d "$bodies_dir/$file" --log-file "$out/runs/$id.lat" \
    "http://127.0.0.1:$port$path" >"$out/runs/$id.txt" 2>&1 || true
  h2_cpu=$(awk -v a="$cpu_before" -v b="$(cpu_ticks "$pid")" -v hz="$clk_tck" 'BEGIN { printf "%.3f", (b - a) / hz }')
  local finished ok failed errored timeout s2 data rps
  read -r finished ok failed errored timeout s2 data rps < <(parse_h2load "$out/runs/$id.txt")
  if [ "$finished" != "$n" ] || [ "$ok" != "$n" ] || [ "$s2" != "$n" ] ||
    [ "$failed$errored$timeout" != 000 ]; then
    die "$id: h2load: $finished done, $ok succeeded, $failed failed, $errored errored, $timeout timeout, $s2 HTTP 2xx of $n (see $out/runs/$id.txt)"
  fi
  if [ "$server" = ours ]; then
    handled "$ours_mport" >"$out/runs/$id.after"
    local why
    why=$(check_delta "$out/runs/$id.before" "$out/runs/$id.after" "$method" "$n") ||
      die "$id: $why"
  fi
  local key="$server|$bodies_dir|$file"
  if [ -z "${size[$key]:-}" ]; then
    ((n == 1)) || die "$id: no reference response size for $key"
    ((data > 5)) || die "$id: reference call of $file answered no message ($data data bytes)"
    size[$key]=$data
  elif ((data != n * size[$key])); then
    die "$id: $data response data bytes, want $n x ${size[$key]}: some calls did not answer the expected message"
  fi
  h2_rps=$rps
}

# measure PHASE ROUND GROUP SERVER PINNED N [TAG]: one run of a group (search: one h2load
# per body), recorded in runs.tsv under TAG (default: the group).
measure() {
  local phase=$1 round=$2 group=$3 server=$4 pinned=$5 n=$6 tag=${7:-$3} file label id
  group_seconds=0 # h2load's own time for the group's calls, summed over its bodies
  while IFS=$'\t' read -r g _ file label; do
    [ "$g" = "$group" ] || continue
    id="$phase-r$round-$server-${tag/>/-for-}-${file%.bin}"
    h2 "$id" "$server" "$pinned" "$file" "$n"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$phase" "$round" "$tag" "$server" \
      "$label" "$n" "$h2_rps" "$out/runs/$id.lat" "$h2_cpu" >>"$out/runs.tsv"
    echo "    $id: $n calls, $h2_rps req/s, server CPU ${h2_cpu}s (verified)"
    group_seconds=$(awk -v t="$group_seconds" -v n="$n" -v r="$h2_rps" 'BEGIN { printf "%.6f", t + n / r }')
  done < <(grep -v '^#' "$manifest")
}

# reference_sizes SERVER: one call per body, to learn each response's size.
reference_sizes() {
  local server=$1 g file
  while IFS=$'\t' read -r g _ file _; do
    [ "$server" = bare ] && [ "$g" != health ] && continue
    h2 "ref-$server-${bodies_dir##*/}-${file%.bin}" "$server" 0 "$file" 1
  done < <(grep -v '^#' "$manifest")
}

# serving_line NAME: sets line to the `serving` log line of the server started as NAME
# (/metrics answers just before it is written), waiting up to 4 s for it.
serving_line() {
  line=""
  for _ in $(seq 200); do
    line=$(grep -m1 ' serving addr=' "$out/$1.log" || true)
    [ -n "$line" ] && return 0
    sleep 0.02
  done
  die "$1: no 'serving' line in $out/$1.log"
}

# ---------------------------------------------------------------- start to SERVING
note "start-to-SERVING: $starts launch(es), pinned to core 0, --log-level info"
for i in $(seq "$starts"); do
  start_ours "start-$i" 1 info
  serving_line "start-$i"
  printf '%s\t%s\n' "$(cat "$out/start-$i.t0")" "${line%% *}" >>"$out/starts.tsv"
  stop "$ours_pid"
done

# ---------------------------------------------------------------- pinned rounds
note "pinned servers (taskset -c 0): certequiv serve --log-level $load_level${preload:+ (LD_PRELOAD=$preload)}, and bare tonic-health"
start_ours pinned 1 "$load_level"
pinned_pid=$ours_pid
start_bare bare-pinned 1
echo "idle_rss_kb=$(awk '/^VmRSS:/{print $2}' "/proc/$pinned_pid/status")" >>"$meta"

note "reference response sizes (one verified call per body)"
reference_sizes ours
reference_sizes bare
[ "${size[bare|$bodies_dir|health_check.bin]}" = "${size[ours|$bodies_dir|health_check.bin]}" ] ||
  die "Health/Check answers differ in size: bare ${size[bare|$bodies_dir|health_check.bin]} B, ours ${size[ours|$bodies_dir|health_check.bin]} B"

bodies_in() { grep -v '^#' "$manifest" | awk -F'\t' -v g="$1" '$1 == g' | wc -l; }

# calibrate PHASE GROUP: runs about $warm_n verified calls of the group on our pinned server
# (not reported) and sets calibrated_n to the calls per body that make one measured run last
# $seconds. (Not a $(...) function: a refused run must stop the script, not a subshell.)
calibrate() {
  local k per
  k=$(bodies_in "$2")
  per=$(((warm_n + k - 1) / k))
  measure "$1" 0 "$2" ours 1 "$per"
  calibrated_n=$(awk -v s="$seconds" -v t="$group_seconds" -v calls="$((per * k))" -v k="$k" \
    -v lo="$min_n" -v hi="$max_n" 'BEGIN {
      n = calls / t * s / k; if (n < lo) n = lo; if (n > hi) n = hi
      printf "%d", int(n / 100 + 0.5) * 100 }')
}

note "warm-up and calibration ($warm_n calls per group; not reported)"
for group in health get search evaluate; do
  k=$(bodies_in "$group")
  if ((fixed_n)); then
    n_for[$group]=$fixed_n
    continue
  fi
  calibrate warmup "$group"
  n_for[$group]=$calibrated_n
done
if ((fixed_n)); then
  n_bare=$fixed_n
else
  measure warmup 0 health bare 1 "$warm_n"
  n_bare=$(awk -v s="$seconds" -v t="$group_seconds" -v calls="$warm_n" -v lo="$min_n" \
    -v hi="$max_n" 'BEGIN { n = calls / t * s; if (n < lo) n = lo; if (n > hi) n = hi
      printf "%d", int(n / 100 + 0.5) * 100 }')
fi
echo "n_per_run: bare_health=$n_bare health=${n_for[health]} get=${n_for[get]} search=${n_for[search]}/body evaluate=${n_for[evaluate]}" |
  tee -a "$out/calibration.txt"

note "$rounds round(s): bare Health, Health, GetCertificate, Health, SearchCertificates, Health, EvaluateEquivalence"
for r in $(seq "$rounds"); do
  measure pinned "$r" health bare 1 "$n_bare"
  for group in get search evaluate; do
    measure pinned "$r" health ours 1 "${n_for[health]}" "health>$group"
    measure pinned "$r" "$group" ours 1 "${n_for[$group]}"
  done
done
echo "pinned_rss_after_unary_kb=$(peak_rss_kb "$pinned_pid")" >>"$meta"

# ---------------------------------------------------------------- BatchEvaluate
# batch PHASE CLIENT_PIN...: one stream of $batch_items evaluations, verified by the client
# (every item a result, in order) and by the server's metrics (one BatchEvaluate, OK).
batch() {
  local phase=$1
  shift
  handled "$ours_mport" >"$out/runs/batch-$phase.before"
  local cpu_before cpu_s
  cpu_before=$(cpu_ticks "$ours_pid")
  "$@" "$batch_bin" "http://127.0.0.1:$ours_port" "$batch_items" >"$out/runs/batch-$phase.txt" 2>&1 ||
    die "batch-$phase: $(tail -1 "$out/runs/batch-$phase.txt")"
  cpu_s=$(awk -v a="$cpu_before" -v b="$(cpu_ticks "$ours_pid")" -v hz="$clk_tck" 'BEGIN { printf "%.3f", (b - a) / hz }')
  handled "$ours_mport" >"$out/runs/batch-$phase.after"
  local why
  why=$(check_delta "$out/runs/batch-$phase.before" "$out/runs/batch-$phase.after" BatchEvaluate 1) ||
    die "batch-$phase: $why"
  local rate
  rate=$(sed -n 's/.*evals_per_s=\([0-9]*\).*/\1/p' "$out/runs/batch-$phase.txt")
  printf '%s\t%s\t%s\t%s\n' "$phase" "$batch_items" "$rate" "$cpu_s" >>"$out/batch.tsv"
  echo "    batch-$phase: $batch_items evaluations, $rate/s, server CPU ${cpu_s}s (verified)"
}
note "BatchEvaluate: one stream of $batch_items evaluations, $batch_repeats time(s) per placement"
for _ in $(seq "$batch_repeats"); do
  if (($(nproc) > 1)); then
    batch pinned-client-core1 taskset -c 1
  fi
  batch pinned-same-core taskset -c 0
done
echo "pinned_rss_kb=$(peak_rss_kb "$pinned_pid")" >>"$meta"
stop "$pinned_pid"
stop "$bare_pid"

# ---------------------------------------------------------------- unpinned ceiling
note "unpinned ceiling (2 cores, one run per method)"
start_ours unpinned 0 "$load_level"
unpinned_pid=$ours_pid
start_bare bare-unpinned 0
# Same binaries and catalog: the response sizes learnt above still hold.
measure unpinned 1 health bare 0 "$n_bare"
for group in health get search evaluate; do
  measure unpinned 1 "$group" ours 0 "${n_for[$group]}"
done
for _ in $(seq "$batch_repeats"); do
  batch unpinned env
done
echo "unpinned_rss_kb=$(peak_rss_kb "$unpinned_pid")" >>"$meta"
stop "$unpinned_pid"
stop "$bare_pid"

# ---------------------------------------------------------------- large catalog
# The same server on a directory holding one synthetic catalog of $large_entries entries:
# start to SERVING and resident size with it, and its search mix against Health/Check.
if ((large_entries > 0)); then
  note "large catalog: $large_entries synthetic entries (seed $large_seed)"
  large_dir="$out/large-catalog"
  mkdir -p "$large_dir"
  "$synthetic_bin" "$large_entries" "$large_seed" >"$large_dir/synthetic.jsonl"
  {
    echo "large_entries=$large_entries"
    echo "large_file_bytes=$(stat -c %s "$large_dir/synthetic.jsonl")"
  } >>"$meta"
  bodies_dir="$out/bodies-large"
  "$synthetic_bin" --queries "$large_seed" >"$out/large-queries.tsv"
  "$encode_bin" "$bodies_dir" --queries "$out/large-queries.tsv" >/dev/null
  manifest="$bodies_dir/manifest.tsv"
  large_args=(--catalog-dir "$large_dir" --default-jurisdiction 合成测试)
  : >"$out/large-starts.tsv"
  for placement in unpinned pinned; do
    start_ours "large-start-$placement" "$([ "$placement" = pinned ] && echo 1 || echo 0)" info "${large_args[@]}"
    serving_line "large-start-$placement"
    rss=$(awk '/^VmRSS:/{print $2}' "/proc/$ours_pid/status" 2>/dev/null || true)
    hwm=$(peak_rss_kb "$ours_pid" 2>/dev/null || true)
    [ -n "$rss" ] && [ -n "$hwm" ] || die "large-start-$placement: server gone before its memory was read"
    printf '%s\t%s\t%s\t%s\t%s\n' "$placement" "$(cat "$out/large-start-$placement.t0")" "${line%% *}" \
      "$rss" "$hwm" >>"$out/large-starts.tsv"
    echo "    large-start-$placement: $(tail -1 "$out/large-starts.tsv" | cut -f4-5 | tr '\t' ' ') kB (VmRSS VmHWM)"
    stop "$ours_pid"
  done
  start_ours large 1 "$load_level" "${large_args[@]}"
  large_pid=$ours_pid
  reference_sizes ours
  if ((fixed_n)); then
    n_large_health=$fixed_n n_large_search=$fixed_n
  else
    calibrate large-warmup health
    n_large_health=$calibrated_n
    calibrate large-warmup search
    n_large_search=$calibrated_n
  fi
  echo "n_per_run large: health=$n_large_health search=$n_large_search/body" | tee -a "$out/calibration.txt"
  for r in $(seq "$rounds"); do
    measure large "$r" health ours 1 "$n_large_health" "health>search"
    measure large "$r" search ours 1 "$n_large_search"
  done
  echo "large_rss_kb=$(awk '/^VmRSS:/{print $2}' "/proc/$large_pid/status")" >>"$meta"
  echo "large_hwm_kb=$(peak_rss_kb "$large_pid")" >>"$meta"
  stop "$large_pid"
fi

echo "loadavg_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$meta"
echo "total_seconds=$(awk -v a="$script_started" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}')" >>"$meta"
note "report"
python3 "$root/bench/report.py" "$out"
echo "load.sh: all runs verified; raw data in $out"
