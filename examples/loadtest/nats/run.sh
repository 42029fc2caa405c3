#!/usr/bin/env bash
# run.sh: the embedded engine against the replicated engine (NATS
# JetStream), in one go on this machine.
#
# It builds the bridge, nats-server (the version in go.mod) and the load
# tool into /tmp/perf16, starts a three-node JetStream cluster on loopback
# (n1.conf, n2.conf, n3.conf: client ports 19221-19223, routes 19231-19233,
# monitoring 19241-19243, file storage in a temporary folder), then runs
# the load tool (-groups N -concurrency C, sink on 127.0.0.1:19298) against
#
#   (a) embedded: one bridge on examples/loadtest/alertbridge.yml;
#   (b) nats x1:  one bridge, same targets plus storage.engine nats
#                 (the three servers, replicas 3, a prefix of its own);
#   (c) nats x2:  two such bridges sharing a prefix; posts go round-robin.
#
# and prints one table: end-to-end groups/s, the bridges' CPU per group
# (summed over the bridges), the nats servers' CPU per group, ack p99, peak
# RSS per bridge, lost and duplicated groups, the errors and warnings in
# the bridges' logs, and the load average at the start of each phase.
#
# Usage (from anywhere):
#   examples/loadtest/nats/run.sh [-g GROUPS] [-c CONCURRENCY] [-p PROFILE_DIR] [-t MINUTES]
#     -g  groups per phase (default 20000)
#     -c  concurrent posts (default 32)
#     -p  also take a 20 s CPU profile of every bridge of each phase
#         (/debug/pprof/profile, 3 s into the load; PHASE-N.pprof) and
#         its heap at the end of the phase (PHASE-N.heap) into PROFILE_DIR
#     -t  bound on the whole script, in minutes (default 40)
#     -k  keep the nats and bridge data folders (logs and reports are
#         always kept)
#
# Bridges listen on 127.0.0.1:19201 and 19202. Logs, the load tool's JSON
# reports and the bridge configs stay in the folder printed at the start.
# Every process the script starts is stopped on exit.
set -euo pipefail

groups=20000
concurrency=32
profile_dir=""
limit_min=40
keep=0
while getopts "g:c:p:t:kh" opt; do
	case $opt in
	g) groups=$OPTARG ;;
	c) concurrency=$OPTARG ;;
	p) profile_dir=$OPTARG ;;
	t) limit_min=$OPTARG ;;
	k) keep=1 ;;
	*)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 2
		;;
	esac
done

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
bin=/tmp/perf16
mkdir -p "$bin"
work=$(mktemp -d "$bin/run.XXXXXX")
[[ -n $profile_dir ]] && mkdir -p "$profile_dir"
sink=127.0.0.1:19298
nats_urls=(nats://127.0.0.1:19221 nats://127.0.0.1:19222 nats://127.0.0.1:19223)
echo "run.sh: $groups groups per phase, concurrency $concurrency; logs and reports in $work" >&2

# Every process started here, stopped on exit.
pids=()
stop_pids() { # stop_pids PID...: TERM (with their children), then KILL after 15 s
	local p left
	for p in "$@"; do
		pkill -TERM -P "$p" 2>/dev/null || true # a subshell's sleep or curl
		kill -TERM "$p" 2>/dev/null || true
	done
	for _ in $(seq 150); do
		left=0
		for p in "$@"; do kill -0 "$p" 2>/dev/null && left=1; done
		((left)) || break
		sleep 0.1
	done
	for p in "$@"; do kill -KILL "$p" 2>/dev/null || true; done
	for p in "$@"; do wait "$p" 2>/dev/null || true; done
}
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	((${#pids[@]})) && stop_pids "${pids[@]}"
	if ((!keep)); then rm -rf "$work/nats" "$work"/*-data; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'echo "run.sh: interrupted" >&2; exit 130' INT TERM

# The whole run is bounded: a watchdog sends this shell TERM.
(sleep $((limit_min * 60)) && echo "run.sh: the ${limit_min}-minute bound ran out" >&2 && kill -TERM $$) &
pids+=($!)

# wait_http URL SECONDS PID...: until URL answers 2xx; fails if a PID exits.
wait_http() {
	local url=$1 secs=$2 p
	shift 2
	for _ in $(seq $((secs * 5))); do
		curl -fsS -m 2 -o /dev/null "$url" 2>/dev/null && return 0
		for p in "$@"; do
			kill -0 "$p" 2>/dev/null || { echo "run.sh: process $p exited while waiting for $url" >&2; return 1; }
		done
		sleep 0.2
	done
	echo "run.sh: $url not ready after ${secs}s" >&2
	return 1
}

# cpu_ticks PID...: their CPU time (user plus system) in clock ticks.
cpu_ticks() {
	local sum=0 p f
	for p in "$@"; do
		read -ra f < <(sed 's/^.*) //' "/proc/$p/stat")
		sum=$((sum + f[11] + f[12])) # utime, stime: fields 14 and 15
	done
	echo "$sum"
}

echo "run.sh: building into $bin" >&2
(cd "$root" && CGO_ENABLED=0 timeout 900 go build -trimpath -o "$bin/ab" .)
(cd "$root" && timeout 600 go build -o "$bin/nats-server" github.com/nats-io/nats-server/v2)
(cd "$root" && timeout 600 go build -o "$bin/loadtest" ./examples/loadtest)
git -C "$root" describe --always --dirty >"$work/version" 2>/dev/null || true

echo "run.sh: starting the nats cluster" >&2
nats_pids=()
for i in 1 2 3; do
	mkdir -p "$work/nats/n$i"
	NATS16_STORE_DIR=$work/nats/n$i "$bin/nats-server" -c "$here/n$i.conf" >"$work/nats-n$i.log" 2>&1 &
	pids+=($!)
	nats_pids+=($!)
done
for i in 1 2 3; do
	wait_http "http://127.0.0.1:1924$i/healthz" 60 "${nats_pids[@]}"
done

# The bridge configs: the load-test targets with the sink on $sink.
sed "s#127.0.0.1:9098#$sink#g" "$root/examples/loadtest/alertbridge.yml" >"$work/embedded.yml"
prefix_base=LT$(date +%H%M%S)$$
nats_config() { # nats_config PREFIX FILE
	cp "$work/embedded.yml" "$2"
	cat >>"$2" <<EOF

storage:
  engine: nats
  nats:
    urls: [$(IFS=,; echo "${nats_urls[*]}" | sed 's/,/, /g')]
    replicas: 3
    prefix: $1
EOF
}

# phase NAME CONFIG BRIDGES: starts the bridges, runs the load tool,
# stops them.
results=()
phase() {
	local name=$1 config=$2 n=$3 i port urls="" bpids=() lpid ppids=() rc=0
	echo "run.sh: phase $name: $n bridge(s), $config" >&2
	# One bridge after the other: two bridges opening a fresh prefix at
	# the same moment both time out creating the stream (seen with
	# nats-server v2.15.2: "stream <prefix>_LOG: context deadline
	# exceeded" after a minute, on both).
	for i in $(seq "$n"); do
		port=$((19200 + i))
		"$bin/ab" --config.file="$config" --storage.path="$work/$name-$i-data" \
			--web.listen-address=127.0.0.1:$port --web.enable-pprof >/dev/null 2>"$work/$name-$i.log" &
		pids+=($!)
		bpids+=($!)
		urls+="${urls:+,}http://127.0.0.1:$port/webhook"
		wait_http "http://127.0.0.1:$port/-/ready" 90 "${bpids[@]}"
	done
	sleep 2 # the claims settle
	uptime | sed 's/.*load average: //' >"$work/$name.load"
	local nats0 t0=$SECONDS
	nats0=$(cpu_ticks "${nats_pids[@]}")
	if [[ -n $profile_dir ]]; then
		for i in $(seq "$n"); do
			(sleep 3 && curl -fsS -m 40 -o "$profile_dir/$name-$i.pprof" \
				"http://127.0.0.1:$((19200 + i))/debug/pprof/profile?seconds=20" ||
				echo "run.sh: profile of $name-$i failed" >&2) &
			ppids+=($!)
			pids+=($!)
		done
	fi
	# Bounded by -wait after the posting; 15 minutes at most.
	timeout 900 "$bin/loadtest" -groups "$groups" -concurrency "$concurrency" -sink.listen "$sink" \
		-bridge.url "$urls" -bridge.pid "$(IFS=,; echo "${bpids[*]}")" -wait 3m -progress 10s -json \
		>"$work/$name.json" 2>"$work/$name.loadtest.log" &
	lpid=$!
	pids+=($lpid)
	wait "$lpid" || rc=$?
	echo $(($(cpu_ticks "${nats_pids[@]}") - nats0)) >"$work/$name.natsticks"
	echo $((SECONDS - t0)) >"$work/$name.seconds"
	if [[ -n $profile_dir ]]; then
		for i in $(seq "$n"); do
			wait "${ppids[i - 1]}" || true # the profile ends 23 s into the load
			curl -fsS -m 30 -o "$profile_dir/$name-$i.heap" "http://127.0.0.1:$((19200 + i))/debug/pprof/heap" ||
				echo "run.sh: heap profile of $name-$i failed" >&2
		done
	fi
	stop_pids "${bpids[@]}"
	# The bridges' errors and warnings (the deliveries log at info).
	for i in $(seq "$n"); do
		grep -E 'level=(error|warn)' "$work/$name-$i.log" >"$work/$name-$i.problems" || true
	done
	echo "run.sh: phase $name: load tool exit $rc" >&2
	results+=("$name")
}

phase embedded "$work/embedded.yml" 1
nats_config "${prefix_base}_1" "$work/nats-x1.yml"
phase nats-x1 "$work/nats-x1.yml" 1
nats_config "${prefix_base}_2" "$work/nats-x2.yml"
phase nats-x2 "$work/nats-x2.yml" 2

python3 - "$work" "${results[@]}" <<'EOF'
import json, os, sys
work, names = sys.argv[1], sys.argv[2:]
tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
rows, base = [], None
for name in names:
    r = json.load(open(f"{work}/{name}.json"))
    peaks = [b["peak_rss_bytes"] for b in r.get("bridges", [])] or [r.get("bridge_peak_rss_bytes", 0)]
    nats = int(open(f"{work}/{name}.natsticks").read()) * tick_ms / max(r["delivered"], 1)
    probs = []
    for i in range(1, 3):
        p = f"{work}/{name}-{i}.problems"
        if os.path.exists(p):
            probs.append(sum(1 for _ in open(p)))
    non200 = sum(r.get("ack_status", {}).values()) + r.get("ack_errors", 0)
    cpu = r.get("bridge_cpu_per_group_ms", 0)
    if name == "embedded":
        base = cpu
        nats_s = "-"
    else:
        nats_s = f"{nats:.3f}"
    rows.append([name.split("-")[0], str(max(1, len(r.get("bridges", [])))), f"{r['e2e_rate']:.0f}",
                 f"{cpu:.3f}", nats_s, f"{r['ack_latency_ms']['p99']:.1f}",
                 "/".join(f"{p / 2**20:.0f}" for p in peaks), str(r["lost"]), str(r["duplicates"]),
                 str(non200), str(r.get("retries", 0)), "/".join(map(str, probs)),
                 open(f"{work}/{name}.load").read().strip().split(",")[0]])
head = ["engine", "bridges", "groups/s", "CPU/group ms", "nats CPU/group ms", "ack p99 ms",
        "peak RSS MiB", "lost", "dup", "non-200", "retried", "log err+warn", "load1"]
w = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
print("  ".join(h.ljust(w[i]) for i, h in enumerate(head)))
for r in rows:
    print("  ".join(c.ljust(w[i]) for i, c in enumerate(r)))
if base:
    for r in rows[1:]:
        print(f"{r[0]} x{r[1]}: bridge CPU per group {float(r[3]) / base:.2f}x the embedded engine's"
              f" ({(float(r[3]) + float(r[4])) / base:.2f}x with the nats servers' CPU)")
print(f"groups {json.load(open(f'{work}/{names[0]}.json'))['groups']} per phase; reports and logs in {work}")
EOF
