#!/bin/bash
# The real HTTP server of the fetch.* tests: Debian's nginx, started as
# root on 127.0.0.1 only, with a configuration, pid file, logs and
# temporary paths of its own (docs/testing.md, "Fetch tests").
#
#   nginx.sh check                      exit 77 saying why when nginx cannot run here
#   nginx.sh start STATE DIR [EXTRA]    serve DIR read-only; print the port
#   nginx.sh start STATE                start it again: same DIR, same port
#   nginx.sh stop STATE                 stop it, and wait until it has exited
#
# STATE is a directory of the caller's, created when missing: nginx.conf,
# nginx.pid, port (the port, also printed by start), error.log and
# access.log (a line a request: status, request, the Range header, bytes
# sent, the connection's serial number, the worker's pid, the User-Agent),
# temp/. A first start picks a free port; a start on a STATE that already
# has one keeps it, so a test can stop the server in the middle of a
# transfer and start it again on the same port. EXTRA is a file of nginx
# directives included in the server block (locations a test needs:
# limit_rate, max_ranges 0).
# Workers run as the owner of DIR, so a private test directory needs no
# change of permissions. stop sends SIGTERM: nginx's fast shutdown, which
# cuts the transfers in flight.
set -euo pipefail

die() {
  echo "nginx.sh: $*" >&2
  exit 1
}

find_nginx() {
  PATH=$PATH:/usr/sbin:/sbin command -v nginx || true
}

check() {
  if ((EUID != 0)); then
    echo "skipped: the fetch.* tests start nginx as root (run them as root)" >&2
    exit 77
  fi
  if [[ -z $(find_nginx) ]]; then
    echo "skipped: no nginx (Debian's nginx-light: tests/deps.sh installs it)" >&2
    exit 77
  fi
}

# write_config STATE DIR PORT [EXTRA]
write_config() {
  local state=$1 dir=$2 port=$3 extra=${4:-}
  local owner group
  owner=$(stat -c %U "$dir")
  group=$(stat -c %G "$dir")
  mkdir -p "$state/temp"
  if [[ -n $extra ]]; then
    cp "$extra" "$state/extra.conf"
  else
    : >"$state/extra.conf"
  fi
  cat >"$state/nginx.conf" <<EOF
# Written by tests/fetch/nginx.sh for one test; serves $dir.
worker_processes 1;
user $owner $group;
pid $state/nginx.pid;
error_log $state/error.log notice;
events { worker_connections 64; }
http {
  default_type application/octet-stream;
  sendfile on;
  keepalive_timeout 60s;
  keepalive_requests 100000;
  client_body_temp_path $state/temp/body;
  proxy_temp_path $state/temp/proxy;
  fastcgi_temp_path $state/temp/fastcgi;
  uwsgi_temp_path $state/temp/uwsgi;
  scgi_temp_path $state/temp/scgi;
  log_format fetch '\$status "\$request" range="\$http_range" sent=\$body_bytes_sent'
                   ' conn=\$connection pid=\$pid agent="\$http_user_agent"';
  access_log $state/access.log fetch;
  server {
    listen 127.0.0.1:$port;
    root $dir;
    autoindex off;
    include $state/extra.conf;
  }
}
EOF
  echo "$dir" >"$state/dir"
}

# A port nothing listens on, below the usual range of outgoing ports.
free_port() {
  local port
  for _ in $(seq 100); do
    port=$((10000 + RANDOM % 22000))
    if [[ -z $(ss -Htln "sport = :$port") ]]; then
      echo "$port"
      return
    fi
  done
  die "no free port found"
}

# run_nginx STATE: start it; false when the port is taken.
run_nginx() {
  local state=$1 nginx pid
  nginx=$(find_nginx)
  : >"$state/start.log"
  if ! "$nginx" -p "$state" -c "$state/nginx.conf" -e "$state/error.log" \
    </dev/null >>"$state/start.log" 2>&1; then
    grep -q 'Address already in use' "$state/start.log" "$state/error.log" && return 1
    cat "$state/start.log" >&2
    die "nginx did not start (config $state/nginx.conf, log $state/error.log)"
  fi
  # The socket is bound before nginx returns; the master writes its pid
  # file after it has become a daemon.
  for _ in $(seq 100); do
    pid=$(cat "$state/nginx.pid" 2>/dev/null || true)
    if [[ -n $pid ]] && running "$pid"; then
      return 0
    fi
    sleep 0.05
  done
  die "nginx wrote no pid file $state/nginx.pid (log $state/error.log)"
}

start() {
  local state=$1 dir=${2:-} extra=${3:-} port
  mkdir -p "$state"
  state=$(realpath "$state")
  if [[ -s $state/nginx.pid ]] && running "$(cat "$state/nginx.pid")"; then
    die "nginx of $state is running already"
  fi
  if [[ -z $dir ]]; then
    [[ -s $state/nginx.conf && -s $state/port ]] || die "$state holds no earlier server to start again"
    run_nginx "$state" || die "port $(cat "$state/port") is taken"
    cat "$state/port"
    return
  fi
  [[ -d $dir ]] || die "no directory $dir"
  dir=$(realpath "$dir")
  [[ -z $extra ]] || extra=$(realpath "$extra")
  if [[ -s $state/port ]]; then
    port=$(cat "$state/port")
    write_config "$state" "$dir" "$port" "$extra"
    run_nginx "$state" || die "port $port is taken"
  else
    for _ in $(seq 10); do
      port=$(free_port)
      write_config "$state" "$dir" "$port" "$extra"
      run_nginx "$state" && break
      port=
    done
    [[ -n $port ]] || die "every free port tried was taken before nginx could listen"
    echo "$port" >"$state/port"
  fi
  echo "$port"
}

# running PID: true while PID runs. A zombie does not count: the daemon's
# parent is PID 1, which may take its time to reap it.
running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

stop() {
  local state=$1 pid
  pid=$(cat "$state/nginx.pid" 2>/dev/null || true)
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1000); do
    running "$pid" || { rm -f "$state/nginx.pid"; return 0; }
    sleep 0.01
  done
  die "nginx $pid did not exit within 10 s of SIGTERM"
}

case ${1:-} in
  check) check ;;
  start) (($# >= 2 && $# <= 4)) || die "usage: nginx.sh start STATE [DIR [EXTRA]]"; check; start "${@:2}" ;;
  stop) (($# == 2)) || die "usage: nginx.sh stop STATE"; stop "$2" ;;
  *) die "usage: nginx.sh check | start STATE [DIR [EXTRA]] | stop STATE" ;;
esac
