#!/bin/bash
# SPDX-License-Identifier: MPL-2.0
# Where the CPU goes in S5 (issue 17, line 5), sender and receiver apart, in a 10 s
# steady-state window: a paced 40 Mbit/s UDP feed (bondcast feed) into the sender, over
# bondcast emulate (4 x 50 Mbit/s, 10 ms) into bondcast recv, all on 127.0.0.1.
#
#   eval/profile/s5_cpu.sh SETUP TOOL TAG [INPUT.ts]
#     SETUP  adaptive (bondcast send --mode adaptive, 4 links) | single (srt-live-transmit, 1 link)
#     TOOL   none (CPU seconds and per-thread switches from /proc) | stat (perf stat) |
#            sys (perf stat of syscalls) | record (perf record, DWARF call graphs) |
#            recordfp (perf record -g, for binaries with frame pointers)
#     TAG    results go to $OUT/TAG (OUT defaults to /tmp/bondcast-profile)
#   BIN=path/to/bondcast overrides build/bin/bondcast. INPUT: a 40 Mbit/s MPEG-TS of 18 s
#   or more (`eval/run --scenario S5 --duration 20` leaves one in its --out folder:
#   media/sample-v1-40mbit-20s.ts).
# Every process runs under timeout; the script ends them all. Results: $OUT/TAG/info.
set -u
if [ $# -lt 3 ]; then
  echo "usage: eval/profile/s5_cpu.sh adaptive|single none|stat|sys|record|recordfp TAG [INPUT.ts]" >&2
  exit 2
fi
SETUP=$1; TOOL=$2; TAG=$3
case $SETUP in adaptive|single) ;; *) echo "s5_cpu.sh: SETUP is adaptive or single, not '$SETUP'" >&2; exit 2;; esac
case $TOOL in none|stat|sys|record|recordfp) ;; *) echo "s5_cpu.sh: TOOL is none, stat, sys, record or recordfp, not '$TOOL'" >&2; exit 2;; esac
HERE=$(cd "$(dirname "$0")/../.." && pwd)
B=${BIN:-$HERE/build/bin/bondcast}
IN=${4:-/tmp/bondcast-profile/sample-40mbit-30s.ts}
[ -r "$IN" ] || { echo "s5_cpu.sh: cannot read the input $IN" >&2; exit 2; }
OUT=${OUT:-/tmp/bondcast-profile}
D=$OUT/$TAG; rm -rf "$D"; mkdir -p "$D"
BASE=$((20000 + RANDOM % 2000 * 10))
RP=$BASE; L0=$((BASE+1)); L1=$((BASE+2)); L2=$((BASE+3)); L3=$((BASE+4)); U=$((BASE+5))
echo "ports recv=$RP links=$L0..$L3 udp=$U" > $D/info

timeout 70 $B recv --listen srt://127.0.0.1:$RP --output $D/out.ts --latency 200 \
  --stats $D/recv.jsonl --duration 60s --no-view > $D/recv.log 2>&1 &
RECV=$!
EMU_LINKS=""
for p in $L0 $L1 $L2 $L3; do EMU_LINKS="$EMU_LINKS --link listen=127.0.0.1:$p,rate=50mbit,delay=10ms"; done
timeout 70 $B emulate $EMU_LINKS --to 127.0.0.1:$RP --seed 1 --duration 60s \
  --stats $D/emu.jsonl --stats-interval 1s > $D/emu.log 2>&1 &
EMU=$!
sleep 1
if [ $SETUP = adaptive ]; then
  timeout 70 $B send --mode adaptive --policy latency-aware --latency 200 \
    --input udp://127.0.0.1:$U --stats $D/send.jsonl --no-view \
    --link srt://127.0.0.1:$L0 --link srt://127.0.0.1:$L1 --link srt://127.0.0.1:$L2 --link srt://127.0.0.1:$L3 \
    > $D/send.log 2>&1 &
  SEND=$!
  for i in $(seq 100); do [ "$(grep -c 'connected' $D/send.log)" -ge 4 ] && break; sleep 0.1; done
else
  timeout 70 srt-live-transmit -a:no -t 60 udp://127.0.0.1:$U "srt://127.0.0.1:$L0?latency=200" > $D/send.log 2>&1 &
  SEND=$!
  for i in $(seq 100); do grep -q 'accepted single-link' $D/recv.log && break; sleep 0.1; done
fi
RECV=$(pgrep -P $RECV); SEND=$(pgrep -P $SEND); EMU=$(pgrep -P $EMU)
echo "pids recv=$RECV send=$SEND emu=$EMU" >> $D/info
timeout 50 $B feed --input $IN --to 127.0.0.1:$U --bitrate 40mbit > $D/feed.log 2>&1 &
FEED=$!
sleep 6   # steady state
S0=$(stat -c %s $D/out.ts 2>/dev/null || echo 0)
cpu() { awk '{print $14+$15}' /proc/$1/stat; }   # utime+stime in clock ticks of the whole process
sch() { cat /proc/$1/task/*/schedstat | awk '{s+=$1} END {printf "%.0f", s}'; }  # ns on cpu, live threads
thr() { for t in /proc/$1/task/*; do echo "$(basename $t) $(cat $t/comm | tr ' ' _) $(awk '{print $1}' $t/schedstat) $(awk '/^voluntary_ctxt/{v=$2} /^nonvoluntary_ctxt/{n=$2} END{print v, n}' $t/status)"; done; }
thr $SEND > $D/thr_send0; thr $RECV > $D/thr_recv0
NS0=$(sch $SEND); NR0=$(sch $RECV); CS0=$(cpu $SEND); CR0=$(cpu $RECV); CE0=$(cpu $EMU); T0=$(date +%s.%N)
case $TOOL in
  none)
    sleep 10 & P1=$!; P2=$! ;;
  stat)
    perf stat -e task-clock,context-switches,cpu-migrations -p $SEND -o $D/send.stat -- sleep 10 &
    P1=$!
    perf stat -e task-clock,context-switches,cpu-migrations -p $RECV -o $D/recv.stat -- sleep 10 &
    P2=$! ;;
  sys)
    EV=syscalls:sys_enter_write,syscalls:sys_enter_read,syscalls:sys_enter_sendmsg,syscalls:sys_enter_sendto,syscalls:sys_enter_recvmsg,syscalls:sys_enter_recvfrom,syscalls:sys_enter_futex,syscalls:sys_enter_poll,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_ppoll,syscalls:sys_enter_select,syscalls:sys_enter_clock_nanosleep,syscalls:sys_enter_nanosleep,context-switches
    perf stat -e $EV -p $SEND -o $D/send.stat -- sleep 10 &
    P1=$!
    perf stat -e $EV -p $RECV -o $D/recv.stat -- sleep 10 &
    P2=$! ;;
  record)
    perf record -F 999 --call-graph dwarf,16384 -p $SEND -o $D/send.data -- sleep 10 > $D/perf-send.log 2>&1 &
    P1=$!
    perf record -F 999 --call-graph dwarf,16384 -p $RECV -o $D/recv.data -- sleep 10 > $D/perf-recv.log 2>&1 &
    P2=$! ;;
  recordfp)
    perf record -F 999 -g -p $SEND -o $D/send.data -- sleep 10 > $D/perf-send.log 2>&1 &
    P1=$!
    perf record -F 999 -g -p $RECV -o $D/recv.data -- sleep 10 > $D/perf-recv.log 2>&1 &
    P2=$! ;;
esac
sleep 10
thr $SEND > $D/thr_send1; thr $RECV > $D/thr_recv1
NS1=$(sch $SEND); NR1=$(sch $RECV); CS1=$(cpu $SEND); CR1=$(cpu $RECV); CE1=$(cpu $EMU); T1=$(date +%s.%N)
S1=$(stat -c %s $D/out.ts)
wait $P1 $P2
TCK=$(getconf CLK_TCK)
echo "window_s=$(echo "$T1 - $T0" | bc) bytes_out=$((S1-S0)) send_cpu_s=$(echo "($CS1-$CS0)/$TCK" | bc -l) recv_cpu_s=$(echo "($CR1-$CR0)/$TCK" | bc -l) emu_cpu_s=$(echo "($CE1-$CE0)/$TCK" | bc -l) send_sched_s=$(echo "($NS1-$NS0)/1000000000" | bc -l) recv_sched_s=$(echo "($NR1-$NR0)/1000000000" | bc -l)" >> $D/info
# threads of both processes (cumulative ticks)
for P in $SEND $RECV; do echo "threads of $P:"; for t in /proc/$P/task/*; do echo "  $(cat $t/comm) $(awk '{print $14+$15}' $t/stat)"; done; done >> $D/info
wait $FEED
sleep 2
kill -INT $SEND 2>/dev/null; sleep 2; kill $SEND 2>/dev/null
kill $RECV 2>/dev/null; kill $EMU 2>/dev/null
wait 2>/dev/null
ls -l $IN $D/out.ts >> $D/info
tail -1 $D/feed.log >> $D/info
cat $D/info
