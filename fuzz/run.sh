#!/usr/bin/env bash
# Runs one fuzz target on one core for SECONDS (default 600): ./run.sh plan 600
set -euo pipefail
cd "$(dirname "$0")"
target=$1
seconds=${2:-600}
case $target in
  policy|config) dict=dicts/yaml.dict ;;
  *) dict=dicts/json.dict ;;
esac
./seed.sh >/dev/null
mkdir -p "artifacts/$target"
# cargo-fuzz needs nightly flags; RUSTC_BOOTSTRAP lets the stable toolchain accept them.
RUSTC_BOOTSTRAP=1 RAYON_NUM_THREADS=1 cargo fuzz run "$target" -s none -a -- \
  -jobs=1 -workers=1 -max_total_time="$seconds" -dict="$dict" -rss_limit_mb=4096 \
  -timeout=20 -print_final_stats=1 -artifact_prefix="artifacts/$target/"
