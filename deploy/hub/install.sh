#!/usr/bin/env bash
# Install a course server for the kit on Debian/Ubuntu, as root: JupyterHub (PyPI) with
# configurable-http-proxy (npm), the kit once for all users, the nbgrader exchange, the instructor's
# course folder with its nbgrader configuration and gradebook, and system accounts.
#
#   sudo deploy/hub/install.sh [options]        (run from a clone of the kit; see docs/COURSE_SERVER.md)
#
# Options (defaults in brackets):
#   --prefix DIR          everything the server installs: venv/, kit/, data/, etc/, hub/, bin/ [/opt/cs231n]
#   --data DIR            shared data sets, CS231N_DATA_DIR of every server [<prefix>/data]
#   --exchange DIR        nbgrader's exchange [/srv/nbgrader/exchange]
#   --course-id ID        nbgrader course id [cs231n-kit]
#   --instructor NAME     the instructor's account (created if missing) [instructor]
#   --students "A B ..."  student accounts to create (created if missing, added to --group) []
#   --group NAME          Unix group whose members may log in to the hub [cs231n]
#   --home-base DIR       parent folder of new accounts' homes [/home]
#   --course-dir DIR      the instructor's course folder [<instructor's home>/cs231n-course]
#   --notebooks "A B"     keep only these notebooks of each assignment (a small test course) [all]
#   --ip ADDR             address the hub listens on ['' = all]
#   --port N              the hub's public port (the proxy) [8000]
#   --hub-port N          the hub's internal API port, on 127.0.0.1 [8081]
#   --proxy-api-port N    configurable-http-proxy's API port, on 127.0.0.1 [8001]
#   --spawner-env K=V     extra environment of every user's server (repeatable), e.g. CS231N_DATASET=synthetic
#   --python PATH         Python >= 3.11 to build the venv with [python3.11, python3.12, python3]
#   --systemd             install <prefix>/etc/cs231n-hub.service in /etc/systemd/system and start it
#   --venv DIR            the shared Python environment (JupyterHub, the kit, the proxy in DIR/proxy)
#                         [<prefix>/venv]; reused when its packages are up to date
#
# Safe to run again: it updates the kit and the configuration, and keeps the gradebook, the exchange's
# contents, the hub's database and every home folder. Start the hub with <prefix>/bin/start-hub.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$(cd "$here/../.." && pwd)"     # the kit's clone

prefix=/opt/cs231n
exchange=/srv/nbgrader/exchange
course_id=cs231n-kit
instructor=instructor
students=""
group=cs231n
home_base=/home
course_dir=""
notebooks=""
ip=""
port=8000
hub_port=8081
proxy_api_port=8001
spawner_env=()
python=""
systemd=0
venv=""
data=""

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix="$2"; shift 2 ;;
    --exchange) exchange="$2"; shift 2 ;;
    --course-id) course_id="$2"; shift 2 ;;
    --instructor) instructor="$2"; shift 2 ;;
    --students) students="$2"; shift 2 ;;
    --group) group="$2"; shift 2 ;;
    --home-base) home_base="$2"; shift 2 ;;
    --course-dir) course_dir="$2"; shift 2 ;;
    --notebooks) notebooks="$2"; shift 2 ;;
    --ip) ip="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --hub-port) hub_port="$2"; shift 2 ;;
    --proxy-api-port) proxy_api_port="$2"; shift 2 ;;
    --spawner-env) spawner_env+=("$2"); shift 2 ;;
    --python) python="$2"; shift 2 ;;
    --systemd) systemd=1; shift ;;
    --venv) venv="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done

say() { printf 'install.sh: %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it creates accounts, the exchange and the shared environment)"
[ -f "$src/nbgrader_config.py" ] && [ -d "$src/cs231n" ] || die "run from a clone of the kit ($src has no nbgrader_config.py)"
case "$prefix" in /*) ;; *) die "--prefix must be an absolute path" ;; esac
case "$exchange" in /*) ;; *) die "--exchange must be an absolute path" ;; esac

[ -n "$venv" ] || venv="$prefix/venv"
[ -n "$data" ] || data="$prefix/data"
kit="$prefix/kit"
etc="$prefix/etc"

# 1. System packages: a C compiler (the fast layers), PAM for logins, Node.js for the proxy.
need_apt=()
command -v cc >/dev/null 2>&1 || need_apt+=(build-essential)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
[ -e /usr/lib/x86_64-linux-gnu/libpam.so.0 ] || ls /lib/*/libpam.so.0 >/dev/null 2>&1 || need_apt+=(libpam0g)
if [ ${#need_apt[@]} -gt 0 ]; then
  say "installing Debian packages: ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
# Every user runs the venv's Python, so it must come from a Python they can reach (the system's, not
# one under /root such as pyenv's).
usable() {
  [ -x "$1" ] && "$1" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null &&
    runuser -u nobody -- "$1" -c '' 2>/dev/null
}
if [ -z "$python" ]; then
  for candidate in /usr/bin/python3.13 /usr/bin/python3.12 /usr/bin/python3.11 /usr/bin/python3 \
                   $(command -v python3.13 python3.12 python3.11 python3 2>/dev/null); do
    if usable "$candidate"; then python="$candidate"; break; fi
  done
fi
[ -n "$python" ] && usable "$python" ||
  die "no Python >= 3.11 with venv that every user may run (apt-get install python3 python3-venv python3-dev, or --python PATH)"

# 2. The shared environment: the kit without the instructor's material, in one venv for everyone.
umask 022
mkdir -p "$prefix" "$etc" "$prefix/hub" "$prefix/bin" "$data"
chmod 755 "$prefix"
say "copying the student copy of the kit to $kit (no assignment sources, no grading material)"
rm -rf "$kit.new"
mkdir -p "$kit.new/cs231n/datasets"
tar -C "$src" --exclude=__pycache__ --exclude='cs231n/datasets/*' \
  -cf - cs231n requirements.txt pyproject.toml setup.py README.md | tar -C "$kit.new" -xf -
cp "$src/cs231n/datasets/README.md" "$src/cs231n/datasets/get_datasets.sh" "$kit.new/cs231n/datasets/" 2>/dev/null || true
rm -rf "$kit"
mv "$kit.new" "$kit"
hub_packages=("jupyterhub>=5,<7" "pamela>=1.2")
proxy_package="configurable-http-proxy@^5"
stamp="$venv/.cs231n-hub-stamp"
want="$(cat "$kit/requirements.txt"; echo "${hub_packages[*]} $proxy_package $("$python" --version)")"
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
if [ ! -x "$venv/bin/python" ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  [ -x "$venv/bin/python" ] || { say "creating $venv with $("$python" --version)"; "$python" -m venv "$venv"; }
  say "installing the kit's requirements and JupyterHub in $venv (several minutes the first time)"
  "${pip[@]}" install -r "$kit/requirements.txt" "${hub_packages[@]}"
  say "installing configurable-http-proxy (npm) in $venv/proxy"
  mkdir -p "$venv/proxy"
  npm install --silent --no-fund --no-audit --prefix "$venv/proxy" "$proxy_package" >/dev/null
  printf '%s' "$want" > "$stamp"
else
  say "$venv is up to date"
fi
say "installing the kit (editable, from $kit) and its fast layers"
(cd "$kit" && "${pip[@]}" install --no-build-isolation --no-deps -e . 2>&1 | grep -v "is ignored: it is neither" >&2 || true)
"$venv/bin/python" -c 'import cs231n, jupyterhub, nbgrader' || die "the shared environment is incomplete"
chmod -R a+rX "$venv" "$kit"

# The synthetic data sets, made once, readable by everyone (every notebook falls back to them without
# real CIFAR-10 / COCO; put real data next to them: python -m cs231n.data download cifar10 --dir DIR).
# Each is a folder (a single synthetic-cifar10-*.npz is an old cache that is no longer read).
for f in "$src"/cs231n/datasets/synthetic-*; do
  [ -d "$f" ] && [ ! -e "$data/$(basename "$f")" ] && cp -r "$f" "$data/"
done
# Both synthetic sets (images, captions) are made here: grading needs them and cannot write them.
CS231N_DATA_DIR="$data" "$venv/bin/python" -c '
from cs231n.captioning.dataset import ensure_synthetic_captions
from cs231n.data.dataset import load_synthetic
load_synthetic()
ensure_synthetic_captions()'
chmod -R a+rX "$data"

# 3. Jupyter: nbgrader for everyone (the Assignments tab, Validate: enabled by nbgrader's wheel), the
# instructor tools off by default; the instructor enables them for their own account (step 6).
# (The files `jupyter server extension disable --sys-prefix` and `jupyter labextension disable
# --level=sys_prefix` would write, written directly: those commands take a minute on a busy machine.)
mkdir -p "$venv/etc/jupyter/jupyter_server_config.d" "$venv/etc/jupyter/labconfig"
cat > "$venv/etc/jupyter/jupyter_server_config.d/nbgrader.server_extensions.formgrader.json" <<JSON
{"ServerApp": {"jpserver_extensions": {"nbgrader.server_extensions.formgrader": false}}}
JSON
cat > "$venv/etc/jupyter/labconfig/page_config.json" <<JSON
{"disabledExtensions": {"@jupyter/nbgrader:formgrader": true, "@jupyter/nbgrader:create-assignment": true}}
JSON
mkdir -p "$venv/share/jupyter/lab/settings"
cat > "$venv/share/jupyter/lab/settings/overrides.json" <<JSON
{
  "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false}
}
JSON
mkdir -p "$venv/etc/jupyter"
cat > "$venv/etc/jupyter/nbgrader_config.py" <<PY
# Written by deploy/hub/install.sh: every user's nbgrader reaches the course's exchange.
c = get_config()  # noqa: F821
c.Exchange.root = "$exchange"
c.CourseDirectory.course_id = "$course_id"
PY

# 4. The exchange: world-writable with the sticky bit, as nbgrader documents; nbgrader itself makes
# <course>/inbound writable but not listable, so students cannot see each other's submissions.
mkdir -p "$exchange"
chmod 1777 "$exchange"
[ "$exchange" = "$(dirname "$exchange")" ] || chmod a+x "$(dirname "$exchange")"

# 5. Accounts: the group allowed to log in, the instructor, the students; homes private (0700).
getent group "$group" >/dev/null || groupadd "$group"
make_account() {
  local name="$1"
  if ! id "$name" >/dev/null 2>&1; then
    useradd --create-home --base-dir "$home_base" --shell /bin/bash --groups "$group" "$name"
    say "created account $name (set its password: passwd $name)"
  else
    usermod -a -G "$group" "$name"
  fi
  chmod 700 "$(getent passwd "$name" | cut -d: -f6)"
}
make_account "$instructor"
for s in $students; do make_account "$s"; done
ihome="$(getent passwd "$instructor" | cut -d: -f6)"
[ -n "$course_dir" ] || course_dir="$ihome/cs231n-course"

# 6. The instructor's course folder (sources, grading material, gradebook), private to them; their
# Jupyter enables formgrader and the create-assignment toolbar for their account only.
if [ ! -f "$course_dir/nbgrader_config.py" ]; then
  say "creating the course folder $course_dir"
  CS231N_DATA_DIR="$data" "$venv/bin/python" - "$src" "$course_dir" "$notebooks" <<'PY'
import sys
from pathlib import Path
from cs231n.grading.tools.course import assignments_with_notebooks, prepare_course
src, dest, keep = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3].split()
prepare_course(src, dest, assignments_with_notebooks(src), keep or None)
PY
  cat >> "$course_dir/nbgrader_config.py" <<PY

# Course server (deploy/hub/install.sh): the exchange and course id every student's server uses.
c.Exchange.root = "$exchange"
c.CourseDirectory.course_id = "$course_id"
# The gradebook: SQLite in this folder by default. PostgreSQL: see docs/COURSE_SERVER.md.
c.CourseDirectory.db_url = "sqlite:///$course_dir/gradebook.db"
PY
else
  say "keeping the existing course folder $course_dir (its sources, config and gradebook)"
fi
chown -R "$instructor:" "$course_dir"
chmod 700 "$course_dir"
mkdir -p "$ihome/.jupyter/labconfig"
cat > "$ihome/.jupyter/nbgrader_config.py" <<PY
# Written by deploy/hub/install.sh: formgrader and nbgrader's commands, from any folder, use the
# course folder and its configuration (formgrader reads only this file and the working folder's).
c = get_config()  # noqa: F821
load_subconfig("$course_dir/nbgrader_config.py")  # noqa: F821
c.CourseDirectory.root = "$course_dir"
PY
cat > "$ihome/.jupyter/jupyter_server_config.json" <<JSON
{"ServerApp": {"jpserver_extensions": {"nbgrader.server_extensions.formgrader": true}}}
JSON
cat > "$ihome/.jupyter/labconfig/page_config.json" <<JSON
{"disabledExtensions": {"@jupyter/nbgrader:formgrader": false, "@jupyter/nbgrader:create-assignment": false}}
JSON
chown -R "$instructor:" "$ihome/.jupyter"

# 7. JupyterHub's configuration and a start script.
# PATH: the venv first (nbgrader runs its `alembic` from PATH), and nothing of root's (the hub's
# own PATH may hold folders under /root that users cannot enter).
env_py="{\"PATH\": \"$venv/bin:/usr/local/bin:/usr/bin:/bin\", \"CS231N_DATA_DIR\": \"$data\""
for kv in "${spawner_env[@]}"; do env_py+=", \"${kv%%=*}\": \"${kv#*=}\""; done
env_py+="}"
cat > "$etc/jupyterhub_config.py" <<PY
# Written by deploy/hub/install.sh. Local system accounts (PAM) in group '$group' log in; each gets
# JupyterLab from the shared environment, started as their own Unix user in their home folder.
c = get_config()  # noqa: F821
c.JupyterHub.ip = "$ip"
c.JupyterHub.port = $port
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = $hub_port
c.JupyterHub.db_url = "sqlite:///$prefix/hub/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "$prefix/hub/jupyterhub_cookie_secret"
c.JupyterHub.pid_file = "$prefix/hub/jupyterhub.pid"
c.ConfigurableHTTPProxy.command = ["$venv/proxy/node_modules/.bin/configurable-http-proxy"]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:$proxy_api_port"
c.ConfigurableHTTPProxy.pid_file = "$prefix/hub/proxy.pid"
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.allowed_groups = {"$group"}
c.PAMAuthenticator.open_sessions = False
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = ["$venv/bin/jupyterhub-singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.environment = $env_py
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 120
# nbgrader's formgrader shows in an iframe of JupyterLab: allow framing by the same origin.
c.Spawner.args = ['--ServerApp.tornado_settings={"headers": {"Content-Security-Policy": "frame-ancestors \'self\'"}}']
PY
cat > "$prefix/bin/start-hub" <<SH
#!/bin/sh
# Start the course's JupyterHub in the foreground (as root). Written by deploy/hub/install.sh.
cd "$prefix/hub" && exec "$venv/bin/jupyterhub" -f "$etc/jupyterhub_config.py" "\$@"
SH
cat > "$prefix/bin/grade" <<SH
#!/bin/sh
# Grade in the course folder with the kit's sandboxed grading, e.g.: grade assignment1 --workers 4
cd "$course_dir" && PATH="$venv/bin:\$PATH" CS231N_DATA_DIR="$data" exec "$venv/bin/python" -m cs231n.grade autograde "\$@"
SH
chmod 755 "$prefix/bin/start-hub" "$prefix/bin/grade"
chmod 700 "$prefix/hub"

# The systemd unit is always written beside the configuration (the test checks it with systemd-analyze);
# --systemd installs and starts it.
cat > "$etc/cs231n-hub.service" <<UNIT
[Unit]
Description=JupyterHub of the cs231n course kit
After=network.target

[Service]
ExecStart=$prefix/bin/start-hub
Restart=on-failure

[Install]
WantedBy=multi-user.target
UNIT
if [ "$systemd" = 1 ]; then
  install -m 644 "$etc/cs231n-hub.service" /etc/systemd/system/cs231n-hub.service
  systemctl daemon-reload && systemctl enable --now cs231n-hub.service
fi

say "done. Start the hub: $prefix/bin/start-hub (port $port); log in as $instructor or a student of group $group."
