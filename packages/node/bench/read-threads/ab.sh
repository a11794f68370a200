#!/usr/bin/env bash
# Read threads A/B (docs/performance-history.md, "Read threads"): two dev nodes on datadirs up at once
# (--rpc.threads 0 on :8611, --rpc.threads THREADS (default 1) on :8612), each with a 20-byte view contract
# (SLOAD(keccak(arg))); eth_getBalance and eth_call with a different argument per request, measured
# with wrk (Debian package `wrk`) in alternating SLICE-second slices (default 5), ROUNDS rounds
# (default 4), after 2 s of warm-up each. Prints req/s and the node's CPU µs per request, for the
# whole process and for the main thread. Usage: ab.sh NODE_MAJOR (20: the machine's node; 22, 24:
# through .ci/with-node).
set -euo pipefail
major=$1; slice=${SLICE:-5}; rounds=${ROUNDS:-4}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../../../.."
dds=()
runner=""; [ "$major" != 20 ] && runner=".ci/with-node $major"
declare -A pid to
for t in 0 1; do
  port=$((8611 + t)); dd=$(mktemp -d "${TMPDIR:-/tmp}/cairn-rt-XXXX")
  dds+=("$dd")
  n=0; [ "$t" = 1 ] && n=${THREADS:-1}
  $runner node packages/node/bin/cairn.js start --dev --datadir "$dd" --rpc.threads $n --http.port $port --log.level warn > "$dd.log" 2>&1 &
  pid[$t]=$!
done
rpc() { curl -s -XPOST localhost:$1 -H 'content-type: application/json' -d "$2"; }
init="0x6014600c60003960146000f360043560005260206000205460005260206000f3"
for t in 0 1; do
  port=$((8611 + t))
  for i in $(seq 1 100); do curl -s -o /dev/null localhost:$port/health && break; sleep 0.3; done
  h=$(rpc $port '{"jsonrpc":"2.0","id":1,"method":"eth_sendTransaction","params":[{"from":"0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266","data":"'$init'"}]}' | sed 's/.*"result":"\([^"]*\)".*/\1/')
  sleep 1
  to[$t]=$(rpc $port '{"jsonrpc":"2.0","id":1,"method":"eth_getTransactionReceipt","params":["'$h'"]}' | sed 's/.*"contractAddress":"\([^"]*\)".*/\1/')
done
tck=$(getconf CLK_TCK)
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
mcpu() { awk '{print $14+$15}' /proc/$1/task/$1/stat; }
measure() { # threads script
  local t=$1 s=$2 port=$((8611 + $1)) c0 c1 m0 m1 r
  c0=$(cpu ${pid[$t]}); m0=$(mcpu ${pid[$t]})
  r=$(CALL_TO=${to[$t]} wrk -t1 -c16 -d${slice}s -s $here/$s.lua http://127.0.0.1:$port/ | awk '/Requests\/sec/ {print $2}')
  c1=$(cpu ${pid[$t]}); m1=$(mcpu ${pid[$t]})
  echo "$s threads=$( [ "$t" = 1 ] && echo "${THREADS:-1}" || echo 0) req/s=$r process-cpu-us/req=$(python3 -c "print(round(($c1-$c0)/$tck*1e6/($r*$slice)))") main-thread-cpu-us/req=$(python3 -c "print(round(($m1-$m0)/$tck*1e6/($r*$slice)))")"
}
for t in 0 1; do for s in balance call; do SLICE=2 slice=2 measure $t $s > /dev/null; done; done
echo "node $($runner node --version | tail -1) load=$(cut -d' ' -f1 /proc/loadavg)"
for r in $(seq 1 $rounds); do
  for s in balance call; do
    if (( r % 2 )); then measure 0 $s; measure 1 $s; else measure 1 $s; measure 0 $s; fi
  done
done
echo "load=$(cut -d' ' -f1 /proc/loadavg)"
kill ${pid[0]} ${pid[1]}; wait 2>/dev/null || true
rm -rf "${dds[@]}" "${dds[@]/%/.log}"
