#!/usr/bin/env bash
# Builds the Debian package from BINARY and checks it in throwaway roots (never the real system):
#
#     packaging/test-package.sh BINARY
#
# - the file list, owners and modes (binary 0755, unit 0644, /etc/netheal 0750, /var/lib/netheal 0700),
#   the unit identical to cluster-config/netheal.service, conffiles, Depends/Recommends;
# - real `dpkg --root=R --force-script-chrootless` installs with systemctl, deb-systemd-helper and
#   deb-systemd-invoke replaced by stubs that log their arguments ($R/run/systemd/system is made so
#   the scripts believe systemd runs in R):
#     unconfigured root            -> nothing enabled, nothing started
#     invalid node.yaml            -> nothing enabled, nothing started, the problem printed
#     valid node.yaml              -> enabled, not started
#     valid node.yaml + opt-in     -> enabled and started
#   then remove (stop) and purge (state directory gone, the admin's files kept).
# Prints "PASS: …" lines; exits non-zero at the first failed check.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
binary=$(realpath "$1")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "PASS: $*"; }

# --- build
deb=$(NETHEAL_PACKAGE_BINARY=$binary NETHEAL_PACKAGE_VERSION=0.0.1~test NETHEAL_PACKAGE_FAST=1 scripts/package-deb --out "$work/dist" 2>"$work/build.log" | tail -n 1) \
    || { cat "$work/build.log" >&2; fail "scripts/package-deb failed"; }
[ -f "$deb" ] || fail "no package at '$deb'"
pass "built $(basename "$deb")"

# --- contents: owner, mode, path
listing=$(dpkg-deb -c "$deb")
expect_entry() { # MODE PATH
    echo "$listing" | awk -v m="$1" -v p="./$2" '$1 == m && $2 == "root/root" && ($6 == p || $6 == p "/") {found=1} END {exit !found}' \
        || fail "expected $1 root/root ./$2 in the package; got: $(echo "$listing" | grep -F "./$2" || echo nothing)"
}
expect_entry -rwxr-xr-x usr/bin/netheal-cluster
expect_entry -rw-r--r-- lib/systemd/system/netheal.service
expect_entry drwxr-x--- etc/netheal
expect_entry -rw-r--r-- etc/netheal/README
expect_entry drwx------ var/lib/netheal
expect_entry -rw-r--r-- usr/share/doc/netheal-cluster/README.md
expect_entry -rw-r--r-- usr/share/doc/netheal-cluster/deployment.md
expect_entry -rw-r--r-- usr/share/doc/netheal-cluster/examples/cluster.yaml
expect_entry -rw-r--r-- usr/share/man/man1/netheal-cluster.1.gz
echo "$listing" | grep -q '\./etc/netheal/.*\.yaml' && fail "an active config file is shipped in /etc/netheal"
echo "$listing" | awk '$2 != "root/root" {exit 1}' || fail "an entry is not owned by root/root"
pass "files, owners and modes"

[ "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)" = "/etc/netheal/README" ] || fail "conffiles should list /etc/netheal/README only"
depends=$(dpkg-deb -f "$deb" Depends)
for d in libsodium23 iproute2; do echo "$depends" | grep -qw "$d" || fail "Depends lacks $d: $depends"; done
[ "$(dpkg-deb -f "$deb" Recommends)" = "ifupdown" ] || fail "Recommends should be ifupdown"
pass "control: Depends: $depends; Recommends: ifupdown; conffiles"

x=$work/x
dpkg-deb -x "$deb" "$x"
cmp -s "$x/lib/systemd/system/netheal.service" cluster-config/netheal.service || fail "the packaged unit differs from cluster-config/netheal.service"
grep -q '^ExecStart=/usr/bin/netheal-cluster run --config /etc/netheal/node.yaml$' "$x/lib/systemd/system/netheal.service" || fail "the unit does not run /usr/bin/netheal-cluster with /etc/netheal/node.yaml"
grep -q '^Type=notify$' "$x/lib/systemd/system/netheal.service" || fail "the unit is not Type=notify"
zcat "$x/usr/share/man/man1/netheal-cluster.1.gz" | grep -q '^\.SS netheal-cluster fleet init' || fail "the man page lacks 'fleet init'"
zcat "$x/usr/share/man/man1/netheal-cluster.1.gz" | grep -q '^\.SS netheal-cluster config check' || fail "the man page lacks 'config check'"
pass "unit identical to cluster-config/netheal.service; man page covers the subcommands"

# --- throwaway roots with stubbed service managers
stubs=$work/stubs
mkdir -p "$stubs"
for tool in systemctl deb-systemd-helper deb-systemd-invoke; do
    cat > "$stubs/$tool" <<EOF
#!/bin/sh
echo "$tool \$*" >> "\$NETHEAL_STUB_LOG"
case "\$*" in *"show --property=Result"*) echo success ;; esac
exit 0
EOF
    chmod 0755 "$stubs/$tool"
done

new_root() { # DIR: an empty root dpkg can install into, where systemd "runs"
    mkdir -p "$1/var/lib/dpkg/info" "$1/var/lib/dpkg/updates" "$1/var/lib/dpkg/triggers" "$1/run/systemd/system" "$1/etc"
    : > "$1/var/lib/dpkg/status"
    : > "$1/var/lib/dpkg/available"
}
dpkg_in() { # ROOT ARGS…: dpkg on ROOT, scripts run chrootless with DPKG_ROOT=ROOT and the stubs first in PATH
    local r=$1; shift
    NETHEAL_STUB_LOG=$r/stub.log PATH="$stubs:$PATH" dpkg --root="$r" --force-not-root --force-script-chrootless \
        --force-depends --log=/dev/null "$@"
}
calls() { cat "$1/stub.log" 2>/dev/null || true; }

# A valid fleet of one node, made with the packaged binary: fleet init, keygen, add-key.
fleet() { # ROOT: writes ROOT/etc/netheal/{node.yaml,cluster.yaml,node.key}
    local r=$1 f=$work/fleet-$(basename "$1")
    echo "n1 198.18.1.11,198.18.2.11 rack-a" > "$f.txt"
    echo "n2 198.18.1.12,198.18.2.12 rack-a" >> "$f.txt"
    echo "n3 198.18.1.13,198.18.2.13 rack-b" >> "$f.txt"
    "$binary" fleet init "$f.txt" --cluster-id pkg-test --out "$f" >/dev/null
    for n in n1 n2 n3; do
        key=$("$binary" keygen --out "$f/$n.key")
        "$binary" fleet add-key "$f" "$n" "$key" >/dev/null
    done
    mkdir -p "$r/etc/netheal"
    # The key next to the node file (relative path), so the check in DPKG_ROOT finds this root's key.
    sed 's|^secret_key_file: .*|secret_key_file: node.key|' "$f/n1/node.yaml" > "$r/etc/netheal/node.yaml"
    cp "$f/n1/cluster.yaml" "$r/etc/netheal/cluster.yaml"
    install -m 0600 "$f/n1.key" "$r/etc/netheal/node.key"
}

# 1. unconfigured
r=$work/r-unconfigured; new_root "$r"
out=$(dpkg_in "$r" -i "$deb" 2>&1) || fail "dpkg -i into an empty root failed: $out"
echo "$out" | grep -q "not configured" || fail "postinst did not say the node is not configured: $out"
[ "$(stat -c %a "$r/usr/bin/netheal-cluster")" = 755 ] || fail "installed binary mode"
[ "$(stat -c %a "$r/lib/systemd/system/netheal.service")" = 644 ] || fail "installed unit mode"
[ "$(stat -c %a "$r/var/lib/netheal")" = 700 ] || fail "installed state dir mode"
[ "$(stat -c %a "$r/etc/netheal")" = 750 ] || fail "installed /etc/netheal mode"
[ ! -e "$r/etc/netheal/node.yaml" ] || fail "node.yaml exists after install"
calls "$r" | grep -E 'enable|start|restart' && fail "postinst enabled or started something on an unconfigured root: $(calls "$r")"
"$r/usr/bin/netheal-cluster" --help | grep -q 'fleet' || fail "the installed binary does not run"
pass "unconfigured root: installed, nothing enabled or started (calls: $(calls "$r" | tr '\n' ';'))"

# 2. invalid node.yaml
r=$work/r-invalid; new_root "$r"
fleet "$r"
sed -i 's/^member: n1$/member: n9/' "$r/etc/netheal/node.yaml"
out=$(dpkg_in "$r" -i "$deb" 2>&1) || fail "dpkg -i with an invalid config failed: $out"
echo "$out" | grep -q "does not pass" || fail "postinst did not report the invalid config: $out"
echo "$out" | grep -q "n9" || fail "postinst did not show config check's problem: $out"
calls "$r" | grep -E 'enable|start' && fail "postinst enabled or started with an invalid config"
pass "invalid node.yaml: problem shown, nothing enabled or started"

# 3. valid node.yaml, no opt-in
r=$work/r-valid; new_root "$r"
fleet "$r"
out=$(dpkg_in "$r" -i "$deb" 2>&1) || fail "dpkg -i with a valid config failed: $out"
calls "$r" | grep -qx 'deb-systemd-helper enable netheal.service' || fail "postinst did not enable the unit: $(calls "$r")"
calls "$r" | grep -E 'invoke (start|restart)' && fail "postinst started the agent without the opt-in"
echo "$out" | grep -q "not started now" || fail "postinst did not say it left the agent stopped: $out"
pass "valid node.yaml: enabled, not started"

# 4. valid node.yaml + opt-in, then remove and purge
r=$work/r-optin; new_root "$r"
fleet "$r"
: > "$r/etc/netheal/start-on-install"
dpkg_in "$r" -i "$deb" >/dev/null 2>&1 || fail "dpkg -i with opt-in failed"
calls "$r" | grep -qx 'deb-systemd-invoke start netheal.service' || fail "postinst did not start the agent with the opt-in: $(calls "$r")"
pass "valid node.yaml + /etc/netheal/start-on-install: enabled and started"

: > "$r/stub.log"
echo '{"entries":[]}' > "$r/var/lib/netheal/heal-journal.json"
dpkg_in "$r" -r netheal-cluster >/dev/null 2>&1 || fail "dpkg -r failed"
calls "$r" | grep -qx 'deb-systemd-invoke stop netheal.service' || fail "prerm did not stop the agent: $(calls "$r")"
[ ! -e "$r/usr/bin/netheal-cluster" ] || fail "binary left after remove"
[ -e "$r/etc/netheal/README" ] || fail "conffile removed by remove (should stay until purge)"
[ -d "$r/var/lib/netheal" ] || fail "state removed by remove (should stay until purge)"
pass "remove: agent stopped, binary gone, config and state kept"

dpkg_in "$r" -P netheal-cluster >/dev/null 2>&1 || fail "dpkg -P failed"
[ ! -e "$r/var/lib/netheal" ] || fail "purge left /var/lib/netheal"
[ ! -e "$r/etc/netheal/README" ] || fail "purge left the conffile"
[ -e "$r/etc/netheal/node.yaml" ] && [ -e "$r/etc/netheal/node.key" ] || fail "purge removed the admin's node.yaml/node.key"
pass "purge: /var/lib/netheal removed, the admin's files kept"
