#!/bin/bash
# Usage: bench/run.sh [--quick] [--lab-sizes "N..."] [--synthetic-sizes "N..."]
#                     [--runs N] [--no-peer] [--workdir DIR]
#
# Measure postfix_queue_exporter side by side with postqueue -j and with
# Debian's prometheus-postfix-exporter, and print the table of BENCHMARKS.md.
# Run as root from the repository, on a machine where deploy/lab may run
# Postfix (a disposable Debian 12 host or container).
#
#   --lab-sizes "N..."        deferred messages put into the loopback lab queue
#                             with lab-populate.sh --bulk (default "0 10000 100000")
#   --synthetic-sizes "N..."  messages of a generated listing that a stand-in
#                             postqueue prints (default "1000000")
#   --quick                   small sizes for a smoke run: lab "0 1000", synthetic "10000"
#   --runs N                  runs of each measurement, median reported (default 5)
#   --no-peer                 skip prometheus-postfix-exporter (otherwise installed with apt-get if missing)
#   --workdir DIR             where to keep binaries, listings, logs and results (default: a new directory under /tmp)
#
# The lab lock /run/postfix-lab.lock is held for the whole run. The lab queue
# is emptied before each lab size and refilled with lab-populate.sh's mixed
# set at the end. Everything listens on 127.0.0.1 only.
set -euo pipefail

usage() {
	sed -n '2,/^$/s/^# \{0,1\}//p' "$0" | sed '$d'
}

args=("$@")
lab_sizes="0 10000 100000"
synthetic_sizes="1000000"
runs=5
peer=yes
workdir=
while [ $# -gt 0 ]; do
	case $1 in
	--quick)
		lab_sizes="0 1000"
		synthetic_sizes="10000"
		;;
	--lab-sizes | --synthetic-sizes | --runs | --workdir)
		[ $# -ge 2 ] || {
			usage >&2
			exit 2
		}
		case $1 in
		--lab-sizes) lab_sizes=$2 ;;
		--synthetic-sizes) synthetic_sizes=$2 ;;
		--runs) runs=$2 ;;
		--workdir) workdir=$2 ;;
		esac
		shift
		;;
	--no-peer) peer=no ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		printf 'bench/run.sh: unknown argument %s\n' "$1" >&2
		usage >&2
		exit 2
		;;
	esac
	shift
done

if [ "$(id -u)" != 0 ]; then
	echo "bench/run.sh: run as root: it fills the lab queue and reads the showq socket" >&2
	exit 1
fi
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# Hold the lab lock for the whole run: re-run this script under flock(1).
# The lab scripts find the inherited descriptor and do not wait for it.
if [ -z "${BENCH_LOCKED:-}" ]; then
	export BENCH_LOCKED=1
	exec flock -w 900 /run/postfix-lab.lock "$0" "${args[@]}"
fi

step() {
	printf '[%5ds] %s\n' "$SECONDS" "$*" >&2
}

workdir=${workdir:-$(mktemp -d /tmp/pqe-bench-XXXXXX)}
mkdir -p "$workdir"
results=$workdir/results.jsonl
: >"$results"

step "building the exporter and the benchmark into $workdir"
go build -o "$workdir/postfix_queue_exporter" .
go build -o "$workdir/bench" ./bench

peer_args=()
if [ "$peer" = yes ]; then
	if ! command -v prometheus-postfix-exporter >/dev/null; then
		step "installing prometheus-postfix-exporter"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends --no-remove \
			prometheus-postfix-exporter >/dev/null
	fi
	peer_args=(-peer "$(command -v prometheus-postfix-exporter)")
fi

restore_lab() {
	step "restoring the lab's mixed queue"
	bash deploy/lab/lab-clear.sh >/dev/null
	bash deploy/lab/lab-populate.sh >/dev/null
}

if ! postfix status >/dev/null 2>&1; then
	step "starting the lab"
	bash deploy/lab/lab-up.sh >/dev/null
fi
trap restore_lab EXIT

for n in $lab_sizes; do
	step "lab: emptying the queue and injecting $n messages"
	bash deploy/lab/lab-clear.sh >/dev/null
	if [ "$n" -gt 0 ]; then
		bash deploy/lab/lab-populate.sh --bulk "$n" >/dev/null
	fi
	step "lab: measuring $n messages"
	"$workdir/bench" -exporter "$workdir/postfix_queue_exporter" -postqueue "$(command -v postqueue)" \
		-source lab -n "$n" -runs "$runs" -workdir "$workdir" -results "$results" "${peer_args[@]}" >/dev/null
done

for n in $synthetic_sizes; do
	listing=$workdir/listing-$n.jsonl
	step "synthetic: generating a listing of $n messages"
	"$workdir/bench" -generate "$listing" -n "$n"
	fake=$workdir/postqueue-$n
	# shellcheck disable=SC2016 # $1 belongs to the generated script
	printf '#!/bin/sh\n# Prints a saved listing, standing in for postqueue -j.\n[ "$1" = -j ] || exit 64\nexec cat %q\n' \
		"$listing" >"$fake"
	chmod +x "$fake"
	step "synthetic: measuring $n messages"
	"$workdir/bench" -exporter "$workdir/postfix_queue_exporter" -postqueue "$fake" \
		-source synthetic -n "$n" -runs "$runs" -workdir "$workdir" -results "$results" >/dev/null
	rm -f "$listing"
done

step "parser: go test -bench on the postqueue -j parser"
parser_speed=$(go test -run '^$' -bench '^BenchmarkParseJSON$' -benchtime 5x ./parser/ | awk '/^BenchmarkParseJSON/ { for (i = 1; i < NF; i++) if ($(i + 1) == "MB/s") print $i " MB/s" }')

"$workdir/bench" -table "$results"
echo
echo "postqueue -j parser (BenchmarkParseJSON): $parser_speed"
echo "hardware: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'), $(free -g | awk '/^Mem:/ { print $2 }') GiB memory"
echo "software: $(go version | cut -d' ' -f3), Postfix $(postconf -h mail_version), prometheus-postfix-exporter $(dpkg-query -W -f '${Version}' prometheus-postfix-exporter 2>/dev/null || echo 'not installed')"
echo "results: $results"
