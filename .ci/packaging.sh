#!/usr/bin/env bash
# The packages and the native binary, checked the way their users meet them (called by .ci/run after the tests;
# runnable alone from the repository root: `bash .ci/packaging.sh`). Every check that fails ends the script
# non-zero with a line starting "FAILED:".
#   1. pack every IsPackable project into a temporary folder feed, and check each package's contents;
#   2. build a fresh consumer app (tests/PackageConsumer, copied out of the repository) from those packages only
#      and run it: discovery and round robin over three loopback tasks through the Testing package's DNS server;
#   3. install the cloudmap tool from the feed, serve a zone with it, and `cloudmap resolve` a name against it;
#   4. publish samples/Hello as native AOT and run the binary, configured only from environment variables,
#      against that zone and two real Name tasks.
# Only loopback addresses are used, and every resolver is given an explicit loopback server.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"
work="$(mktemp -d /tmp/cloudmap-packaging.XXXXXX)"
feed="$work/feed"
pids=()

# With pipefail, `producer | grep -q` fails when grep exits at its first match while the producer is still writing
# (SIGPIPE, exit 141): checks read captured output instead, and `sed -n 1p` reads to the end where `head -1` would not.
section() { printf '\n==== %s ====\n' "$*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# wait_for LOG REGEX PID SECONDS: until a line of LOG matches, failing early if PID has exited.
wait_for() {
  local log="$1" regex="$2" pid="$3" seconds="$4" i
  for ((i = 0; i < seconds * 10; i++)); do
    if grep -qE "$regex" "$log" 2>/dev/null; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then cat "$log" >&2; fail "process $pid exited before printing /$regex/"; fi
    sleep 0.1
  done
  cat "$log" >&2
  fail "no /$regex/ in $log after ${seconds}s"
}

commit="$(git rev-parse HEAD 2>/dev/null || true)"
timings=()
step_start=$SECONDS
step_done() { timings+=("$1: $((SECONDS - step_start)) s"); step_start=$SECONDS; }

# ---------------------------------------------------------------------------------------------
section "Pack every packable project into a folder feed"
dotnet pack CloudMapDiscovery.sln -c Release -o "$feed" -p:ContinuousIntegrationBuild=true
shopt -s nullglob
packages=("$feed"/*.nupkg)
shopt -u nullglob
[ "${#packages[@]}" -ge 3 ] || fail "expected at least 3 packages (library, Testing, tool), got ${#packages[@]}"
version=""
for package in "${packages[@]}"; do
  file="$(basename "$package" .nupkg)"
  listing="$(unzip -Z1 "$package")"
  nuspec="$(unzip -p "$package" '*.nuspec')"
  id="$(sed -n 's:.*<id>\(.*\)</id>.*:\1:p' <<<"$nuspec")"
  v="$(sed -n 's:.*<version>\(.*\)</version>.*:\1:p' <<<"$nuspec")"
  description="$(sed -n 's:.*<description>\(.*\)</description>.*:\1:p' <<<"$nuspec")"
  tags="$(sed -n 's:.*<tags>\(.*\)</tags>.*:\1:p' <<<"$nuspec")"
  echo "$id $v: $(wc -l <<<"$listing") files; tags: $tags"
  grep -qx 'README.md' <<<"$listing" || fail "$file has no README.md"
  grep -q '<readme>README.md</readme>' <<<"$nuspec" || fail "$file's nuspec does not name its readme"
  grep -qx 'LICENSE' <<<"$listing" || fail "$file has no LICENSE"
  grep -q '<license type="expression">MIT</license>' <<<"$nuspec" || fail "$file is not marked MIT"
  [ -n "$description" ] && [ "$description" != "Package Description" ] || fail "$file has no description"
  [ -n "$tags" ] || fail "$file has no tags"
  grep -q "<repository type=\"git\"[^>]*commit=\"$commit\"" <<<"$nuspec" || [ -z "$commit" ] || fail "$file does not record commit $commit"
  [ -f "$feed/$file.snupkg" ] || fail "$file has no symbol package ($file.snupkg)"
  grep -q '\.pdb$' <<<"$(unzip -Z1 "$feed/$file.snupkg")" || fail "$file.snupkg holds no PDB"
  if grep -q '<packageType name="DotnetTool"' <<<"$nuspec"; then
    grep -q "^tools/net10.0/any/cloudmap.dll$" <<<"$listing" || fail "$file is a tool package without cloudmap.dll"
  else
    grep -q "^lib/net10.0/$id.dll$" <<<"$listing" || fail "$file has no lib/net10.0/$id.dll"
    grep -q "^lib/net10.0/$id.xml$" <<<"$listing" || fail "$file has no XML documentation"
  fi
  if [ "$id" = "CloudMapDiscovery" ]; then version="$v"; fi
done
[ -n "$version" ] || fail "no CloudMapDiscovery package in the feed"
# What this build's assemblies report: the version, plus the commit when built from a git checkout.
informational="$version${commit:++$commit}"
tool_id=CloudMapDiscovery.Tool
[ -f "$feed/$tool_id.$version.nupkg" ] || fail "no $tool_id $version package in the feed"
# The provider uses the library's internals: it must depend on exactly the library it was built with.
provider="$feed/CloudMapDiscovery.ServiceDiscovery.$version.nupkg"
[ -f "$provider" ] || fail "no CloudMapDiscovery.ServiceDiscovery $version package in the feed"
grep -q "<dependency id=\"CloudMapDiscovery\" version=\"\[$version\]\"" <<<"$(unzip -p "$provider" '*.nuspec')" \
  || fail "CloudMapDiscovery.ServiceDiscovery does not depend on exactly CloudMapDiscovery [$version]"
# The Cloud Map API source is a package of its own: it brings AWSSDK.Core, and the DNS-only library must not.
api="$feed/CloudMapDiscovery.Api.$version.nupkg"
[ -f "$api" ] || fail "no CloudMapDiscovery.Api $version package in the feed"
api_nuspec="$(unzip -p "$api" '*.nuspec')"
# It uses only the library's public source seam, so a lower bound (this version) is the dependency it needs.
grep -q '<dependency id="CloudMapDiscovery" version="'"$version"'"' <<<"$api_nuspec" \
  || fail "CloudMapDiscovery.Api does not depend on CloudMapDiscovery $version or later"
grep -q '<dependency id="AWSSDK.Core"' <<<"$api_nuspec" || fail "CloudMapDiscovery.Api does not depend on AWSSDK.Core"
if grep -q 'AWSSDK' <<<"$(unzip -p "$feed/CloudMapDiscovery.$version.nupkg" '*.nuspec')"; then
  fail "the CloudMapDiscovery package depends on an AWS SDK package (only CloudMapDiscovery.Api may)"
fi
step_done "pack + package checks"

# ---------------------------------------------------------------------------------------------
section "A fresh consumer app, built from the packages"
consumer="$work/consumer"
cp -r tests/PackageConsumer "$consumer"
rm -rf "$consumer/bin" "$consumer/obj"
# The machine's own package sources as seen from there (the normal registry), by name.
mapfile -t registry_sources < <(cd "$consumer" && dotnet nuget list source | sed -n 's/^ *[0-9][0-9]*\. *\(.*\) \[Enabled\]$/\1/p')
[ "${#registry_sources[@]}" -gt 0 ] || fail "no enabled NuGet source to restore the consumer's other dependencies from"
# The feed is added to the machine's own package sources, and source mapping makes it the only place any
# CloudMapDiscovery package may come from (a package of that name elsewhere must not stand in for ours).
{
  echo '<?xml version="1.0" encoding="utf-8"?>'
  echo '<configuration>'
  echo "  <packageSources><add key=\"cloudmap-feed\" value=\"$feed\" /></packageSources>"
  echo '  <packageSourceMapping>'
  echo '    <packageSource key="cloudmap-feed"><package pattern="CloudMapDiscovery" /><package pattern="CloudMapDiscovery.*" /></packageSource>'
  for source in "${registry_sources[@]}"; do
    echo "    <packageSource key=\"$source\"><package pattern=\"*\" /></packageSource>"
  done
  echo '  </packageSourceMapping>'
  echo '</configuration>'
} >"$consumer/nuget.config"
cat "$consumer/nuget.config"
# An empty packages folder: the global one may hold an older build of the same version.
export NUGET_PACKAGES="$work/packages"
consumer_log="$work/consumer.log"
set +e
dotnet run --project "$consumer" -c Release -p:CloudMapPackageVersion="$version" 2>&1 | tee "$consumer_log"
consumer_status=${PIPESTATUS[0]}
set -e
unset NUGET_PACKAGES
[ "$consumer_status" -eq 0 ] || fail "the package consumer exited $consumer_status"
grep -q "^CloudMapDiscovery $informational from " "$consumer_log" \
  || fail "the consumer did not run CloudMapDiscovery $informational (this build's package)"
step_done "consumer restore + build + run"

# ---------------------------------------------------------------------------------------------
section "The cloudmap tool, installed from the feed"
tools="$work/tools"
# Only the feed: the tool package has no dependencies, and no other source may supply it.
cat >"$work/tool-nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration><packageSources><clear /><add key="cloudmap-feed" value="$feed" /></packageSources></configuration>
EOF
dotnet tool install --tool-path "$tools" --configfile "$work/tool-nuget.config" "$tool_id" --version "$version"
cloudmap="$tools/cloudmap"
tool_version="$("$cloudmap" --version)"
echo "cloudmap --version: $tool_version"
[ "$tool_version" = "$informational" ] || fail "the installed tool is $tool_version, not $informational (this build's package)"
grep -q -- '--port.*\[default: 15353\]' <<<"$("$cloudmap" serve --help)" || fail "cloudmap serve's default port is not 15353"

# The zone the rest of this script uses: name.internal has two tasks, TTL 0 like the AWS pattern.
dns_log="$work/dns.log"
"$cloudmap" serve --zone internal --address 127.0.0.1 --port 0 --record name=127.0.0.2,127.0.0.3 --ttl 0 >"$dns_log" 2>&1 &
dns_pid=$!
pids+=("$dns_pid")
wait_for "$dns_log" 'Press Ctrl\+C' "$dns_pid" 30
dns_endpoint="$(sed -n 's/^Serving zone internal on \(127\.0\.0\.1:[0-9]*\) (UDP and TCP):$/\1/p' "$dns_log")"
[ -n "$dns_endpoint" ] || fail "cannot read cloudmap serve's address from: $(cat "$dns_log")"
resolved="$("$cloudmap" resolve name.internal --server "$dns_endpoint" --json)"
echo "$resolved"
for ip in 127.0.0.2 127.0.0.3; do
  grep -q "\"address\": \"$ip\"" <<<"$resolved" || fail "cloudmap resolve did not return $ip"
done
grep -q '"responseCode": "NoError"' <<<"$resolved" || fail "cloudmap resolve: not NoError"
set +e
"$cloudmap" resolve missing.internal --server "$dns_endpoint" >/dev/null
missing_status=$?
set -e
[ "$missing_status" -eq 1 ] || fail "cloudmap resolve of a missing name exited $missing_status, not 1 (no records)"
step_done "tool install + serve + resolve"

# ---------------------------------------------------------------------------------------------
section "samples/Hello as native AOT, against the zone and two real Name tasks"
dotnet publish samples/Hello -c Release -p:PublishAot=true -o "$work/hello"
hello="$work/hello/Hello"
[ -x "$hello" ] || fail "no native Hello binary"
file_type="$(head -c 4 "$hello" | od -An -c | tr -d ' ')"
[ "$file_type" = '177ELF' ] || fail "Hello is not a native executable"
[ ! -e "$work/hello/Hello.dll" ] || fail "Hello.dll next to the native binary: this is not a native AOT publish"
dotnet publish samples/Name -c Release -o "$work/name"

step_done "native AOT publish of Hello (+ Name, JIT)"

# Name tasks on 127.0.0.2 and .3 sharing one port, as Cloud Map A records have no port.
name_log2="$work/name2.log"
dotnet "$work/name/Name.dll" --urls http://127.0.0.2:0 >"$name_log2" 2>&1 &
pids+=("$!")
wait_for "$name_log2" 'Now listening on: http://127\.0\.0\.2:[0-9]+' "$!" 60
name_port="$(grep -oE 'http://127\.0\.0\.2:[0-9]+' "$name_log2" | sed -n '1s/.*://p')"
name_log3="$work/name3.log"
dotnet "$work/name/Name.dll" --urls "http://127.0.0.3:$name_port" >"$name_log3" 2>&1 &
pids+=("$!")
wait_for "$name_log3" "Now listening on: http://127\\.0\\.0\\.3:$name_port" "$!" 60

# Only environment variables configure the binary (env -i: nothing inherited). First a probe that needs no
# network: a bad name server must stop it at startup, naming the option, which proves the binding reached the
# options (a binary that binds nothing would start, and ask /etc/resolv.conf's server).
probe_log="$work/hello-probe.log"
echo "Startup probe: native Hello with CloudMapDiscovery__NameServers__0=not-an-address must abort (bash reports it):"
set +e
(ulimit -c 0; env -i PATH="$PATH" HOME="$HOME" NAME_SERVER="http://name.internal:$name_port/" \
  CloudMapDiscovery__NameServers__0=not-an-address ASPNETCORE_URLS=http://127.0.0.1:0 \
  timeout 30 "$hello" >"$probe_log" 2>&1)
probe_status=$?
set -e
grep -q "NameServers: 'not-an-address' is not a name server address" "$probe_log" && [ "$probe_status" -ne 0 ] && [ "$probe_status" -ne 124 ] \
  || { cat "$probe_log" >&2; fail "native Hello did not reject CloudMapDiscovery__NameServers__0=not-an-address at startup (exit $probe_status)"; }
echo "Startup probe: the bad name server from the environment was rejected (exit $probe_status)."

hello_log="$work/hello.log"
env -i PATH="$PATH" HOME="$HOME" NAME_SERVER="http://name.internal:$name_port/" \
  CloudMapDiscovery__NameServers__0="$dns_endpoint" CloudMapDiscovery__MinTtl=00:00:03 \
  ASPNETCORE_URLS=http://127.0.0.1:0 "$hello" >"$hello_log" 2>&1 &
hello_pid=$!
pids+=("$hello_pid")
wait_for "$hello_log" 'Now listening on: http://127\.0\.0\.1:[0-9]+' "$hello_pid" 30
hello_url="$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$hello_log" | sed -n 1p)"
declare -A served=([127.0.0.2]=0 [127.0.0.3]=0)
requests=20
for ((i = 0; i < requests; i++)); do
  answer="$(curl -sS --max-time 10 -w ' [%{http_code}]' "$hello_url/")" || fail "request $i to native Hello failed"
  task="$(sed -nE 's/^Hello \(from .* 127\.0\.0\.1\) [A-Za-z]+ \(from .* (127\.0\.0\.[23])\) \[200\]$/\1/p' <<<"$answer")"
  [ -n "$task" ] || fail "unexpected answer from native Hello: $answer"
  served[$task]=$((served[$task] + 1))
done
echo "native Hello, $requests requests: 127.0.0.2 served ${served[127.0.0.2]}, 127.0.0.3 served ${served[127.0.0.3]}"
[ "${served[127.0.0.2]}" -gt 0 ] && [ "${served[127.0.0.3]}" -gt 0 ] || fail "native Hello's answers did not come from both tasks"
difference=$((served[127.0.0.2] - served[127.0.0.3]))
[ "${difference#-}" -le 2 ] || fail "native Hello did not balance round robin"
snapshot="$(curl -sS --max-time 10 "$hello_url/debug/endpoints")"
grep -q '"ttl": "00:00:03"' <<<"$snapshot" \
  || { echo "$snapshot" >&2; fail "CloudMapDiscovery__MinTtl=00:00:03 is not in force in native Hello (TTL 0 should be floored to it)"; }
echo "native Hello: MinTtl from the environment in force (TTL 00:00:03)."
step_done "native Hello run"

printf '\n==== Packaging OK: %s packages, consumer, tool, native Hello ====\n' "${#packages[@]}"
printf '  %s\n' "${timings[@]}"
