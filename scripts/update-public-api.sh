#!/usr/bin/env bash
# Brings every packable project's PublicAPI.Unshipped.txt up to date with its code, after a deliberate change
# of the public API: members the analyzer reports as new (RS0016) are added, members it cannot find (RS0017)
# are dropped from Unshipped, or marked *REMOVED* when they had shipped. Review the diff: it is the API change.
#   bash scripts/update-public-api.sh            # all projects with a PublicAPI.Unshipped.txt, library first
#   bash scripts/update-public-api.sh src/CloudMapDiscovery
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "$#" -gt 0 ]; then
  projects=("$@")
else
  # The library first: the others reference it and do not build while its baseline is out of date.
  mapfile -t projects < <(find src -name PublicAPI.Unshipped.txt -printf '%h\n' | sort | awk '$0 == "src/CloudMapDiscovery" { print; next } { rest[++n] = $0 } END { for (i = 1; i <= n; i++) print rest[i] }')
fi

symbols() { # CODE LOG PROJECT: the symbols of one diagnostic reported for PROJECT (not for a project it references), one a line
  grep -F -- "/$3/" "$2" | grep -F -- ".csproj]" | grep -F -- "$(basename "$3").csproj]" \
    | grep -oE "$1: Symbol '.*' (is not part of the declared public API|is part of the declared API, but)" \
    | sed -E "s/^$1: Symbol '(.*)' is (not )?part of the declared.*$/\1/" | sort -u || true
}

for project in "${projects[@]}"; do
  unshipped="$project/PublicAPI.Unshipped.txt"
  shipped="$project/PublicAPI.Shipped.txt"
  log="$(mktemp)"
  dotnet build "$project" -c Release -p:TreatWarningsAsErrors=false >"$log" 2>&1 || true
  mapfile -t added < <(symbols RS0016 "$log" "$project")
  mapfile -t removed < <(symbols RS0017 "$log" "$project")
  body="$(mktemp)"
  grep -v '^#nullable enable$' "$unshipped" >"$body" || true
  for symbol in "${removed[@]}"; do
    if grep -qxF -- "$symbol" "$body"; then
      grep -vxF -- "$symbol" "$body" >"$body.new" || true
      mv "$body.new" "$body"
    elif grep -qxF -- "$symbol" "$shipped"; then
      echo "*REMOVED*$symbol" >>"$body"
    fi
  done
  printf '%s\n' "${added[@]}" >>"$body"
  { echo '#nullable enable'; { grep -v '^$' "$body" || true; } | LC_ALL=C sort -u; } >"$unshipped"
  echo "$project: ${#added[@]} added, ${#removed[@]} removed"
  rm -f "$log" "$body"
done

# Confirm: nothing left to report.
for project in "${projects[@]}"; do
  if dotnet build "$project" -c Release 2>&1 | grep -E "error RS00(16|17|26|27)" | sort -u; then
    echo "Still failing: $project (RS0026/RS0027 need a design decision, not a baseline entry)." >&2
    exit 1
  fi
done
echo "Public API baselines are up to date; review: git diff -- '*PublicAPI*.txt'"
