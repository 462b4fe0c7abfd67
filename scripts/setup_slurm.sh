#!/usr/bin/env bash
# setup_slurm.sh - a real single-node SLURM cluster on this machine, for testing the SLURM profile.
#
#   sudo bash scripts/setup_slurm.sh         # install (Debian packages), configure, start, smoke-test
#   sudo bash scripts/setup_slurm.sh stop    # stop the daemons it started (by their pid files)
#
# Safe to run again: it installs only missing packages, rewrites a config only when it differs
# and (re)starts only daemons that are not running. Needs root and apt-get (Debian 12; no systemd).
#
# The node it declares is a small GPU node: 4 GPUs (fake character devices cloned from /dev/null,
# which SLURM schedules like real ones and exports as CUDA_VISIBLE_DEVICES), 16 CPUs and 64 GiB.
# slurmd is told to trust that declaration (config_overrides), so the SLURM profile's real
# per-rule requests schedule on a 2-core CI box; nothing enforces them here (no cgroups).
# There is no accounting daemon: `sacct` then answers "accounting storage is disabled", which is
# exactly the case where the executor plugin's default status command hangs for ever, so the
# workflow's SLURM profile is tested against it.
#
# Knobs (environment):
#   SLURM_BASE=/tmp/vlmeval-slurm  state, spool, logs and fake devices; every parent directory must be
#                                  traversable by user `slurm` (so not under /root)
#   FAKE_GPUS=4  NODE_CPUS=16  NODE_MEM_MB=65536
#   SKIP_SMOKE=1                   skip the srun/sbatch smoke test
set -euo pipefail

SLURM_BASE=${SLURM_BASE:-/tmp/vlmeval-slurm}
FAKE_GPUS=${FAKE_GPUS:-4}
NODE_CPUS=${NODE_CPUS:-16}
NODE_MEM_MB=${NODE_MEM_MB:-65536}
CLUSTER=vlmeval
PARTITION=debug
STATE=$SLURM_BASE/state
LOGS=$SLURM_BASE/log
HOST=$(hostname -s)
export DEBIAN_FRONTEND=noninteractive
T0=$(date +%s)
log() { echo "[setup_slurm +$(( $(date +%s) - T0 ))s] $*"; }
die() { echo "setup_slurm: $*" >&2; exit 1; }

pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
stop_pidfile() {
  local f=$1 pid i
  [ -s "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" || true
    # wait for the process itself: the daemons remove their pid file before they exit
    for i in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  fi
  rm -f "$f"
}

[ "$(id -u)" = 0 ] || die "run as root (it installs packages and starts daemons)"
mkdir -p "$SLURM_BASE"
SLURM_BASE=$(cd "$SLURM_BASE" && pwd -P); STATE=$SLURM_BASE/state; LOGS=$SLURM_BASE/log

if [ "${1:-}" = stop ]; then
  stop_pidfile "$STATE/slurmd.pid"
  stop_pidfile "$STATE/slurmctld.pid"
  stop_pidfile /run/munge/munged.pid
  log "stopped"
  exit 0
fi

# -------------------------------------------------------------- packages
missing=""
for p in slurmctld slurmd slurm-client munge; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  command -v apt-get >/dev/null || die "apt-get not found; install$missing by hand"
  log "installing$missing"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
log "slurm $(slurmd -V | awk '{print $2}')"

# slurmctld and slurmd find the node by its short host name
getent hosts "$HOST" >/dev/null || echo "127.0.0.1 $HOST" >> /etc/hosts

# -------------------------------------------------------------- munge (authentication)
[ -s /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key
chown munge:munge /etc/munge /etc/munge/munge.key
chmod 700 /etc/munge; chmod 600 /etc/munge/munge.key
install -d -o munge -g munge -m 0755 /run/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 1 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.2; done
  munge -n | unmunge >/dev/null || die "munged did not start"
  log "munged started"
fi

# -------------------------------------------------------------- state dirs and fake GPUs
install -d -o slurm -g slurm "$STATE" "$STATE/ctld" "$LOGS"
install -d -o root -g root "$STATE/d"
GRES_NODE=""
GRES_LINE=""
if [ "$FAKE_GPUS" -gt 0 ]; then
  for ((i = 0; i < FAKE_GPUS; i++)); do
    # gres/gpu drops GPUs without a File= and wants character devices there: clone /dev/null
    [ -c "$STATE/fakegpu$i" ] || { rm -f "$STATE/fakegpu$i"; mknod "$STATE/fakegpu$i" c 1 3; }
  done
  GRES_NODE="Gres=gpu:$FAKE_GPUS"
  GRES_LINE="NodeName=$HOST Name=gpu File=$STATE/fakegpu[0-$((FAKE_GPUS - 1))]"
fi

cat > "$STATE/gres.conf.new" <<EOF
AutoDetect=off
$GRES_LINE
EOF
cat > "$STATE/slurm.conf.new" <<EOF
ClusterName=$CLUSTER
SlurmctldHost=$HOST
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
ReturnToService=2
SchedulerType=sched/backfill
# trust the declared node shape below instead of draining the node for having fewer cores
SlurmdParameters=config_overrides
# finished jobs stay visible to squeue this long; the plugin's squeue status mode needs it
MinJobAge=300
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
GresTypes=gpu
NodeName=$HOST CPUs=$NODE_CPUS RealMemory=$NODE_MEM_MB $GRES_NODE State=UNKNOWN
PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP
# a second, non-default partition over the same node: tests can tell a requested partition from the default
PartitionName=gpu Nodes=ALL Default=NO MaxTime=INFINITE State=UP
EOF
changed=0
for f in slurm.conf gres.conf; do
  if ! cmp -s "$STATE/$f.new" "/etc/slurm/$f"; then
    install -m 0644 "$STATE/$f.new" "/etc/slurm/$f"
    changed=1
  fi
  rm -f "$STATE/$f.new"
done
if [ "$changed" = 1 ]; then
  log "configuration written; restarting the slurm daemons"
  stop_pidfile "$STATE/slurmd.pid"
  stop_pidfile "$STATE/slurmctld.pid"
fi

# -------------------------------------------------------------- daemons
if ! pid_alive "$STATE/slurmctld.pid"; then
  slurmctld
  for _ in $(seq 1 100); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.2; done
  scontrol ping | grep -q UP || { tail -n 20 "$LOGS/slurmctld.log"; die "slurmctld did not start"; }
  log "slurmctld started"
fi
if ! pid_alive "$STATE/slurmd.pid"; then
  slurmd
  log "slurmd started"
fi
state=""
for _ in $(seq 1 150); do
  state=$(sinfo -h -N -n "$HOST" -p "$PARTITION" -o %T 2>/dev/null || true)
  case "$state" in
    idle|mixed|allocated|completing) break ;;
    # a node drained by an earlier, wrong config stays drained until it is resumed
    *drain*|*down*) scontrol update nodename="$HOST" state=resume 2>/dev/null || true ;;
  esac
  sleep 0.2
done
case "$state" in
  idle|mixed|allocated|completing) log "node $HOST is $state" ;;
  *) sinfo -N -o "%N %T %E"; tail -n 20 "$LOGS/slurmctld.log" "$LOGS/slurmd.log"; die "node $HOST is '$state'" ;;
esac

# -------------------------------------------------------------- smoke test
if [ "${SKIP_SMOKE:-0}" != 1 ]; then
  [ "$(srun -N1 -n1 hostname)" = "$HOST" ] || die "srun hostname failed"
  if [ "$FAKE_GPUS" -gt 0 ]; then
    got=$(srun --gpus=1 printenv CUDA_VISIBLE_DEVICES) || die "srun --gpus=1 failed"
    [ -n "$got" ] || die "srun --gpus=1 set no CUDA_VISIBLE_DEVICES"
  fi
  out=$(mktemp -d)
  jid=$(sbatch --parsable -o "$out/%j.out" --wrap 'echo sbatch-ok')
  for _ in $(seq 1 300); do [ -z "$(squeue -h -j "$jid" 2>/dev/null)" ] && break; sleep 0.2; done
  grep -q sbatch-ok "$out/$jid.out" || die "sbatch job $jid failed"
  rm -rf "$out"
  log "srun and sbatch work"
fi
log "ready: partitions $PARTITION (default) and gpu, $FAKE_GPUS GPUs (total $(( $(date +%s) - T0 ))s)"
