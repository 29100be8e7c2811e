#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ with the seed inputs: the repository's fixtures and policies.
set -euo pipefail
cd "$(dirname "$0")"
root=..
mkdir -p corpus/plan corpus/aws_config corpus/policy corpus/config
cp "$root"/fixtures/corpus/terraform-plans/*.json "$root"/fixtures/emit/plan.json \
   "$root"/fixtures/examples/plan.json "$root"/fixtures/policies/*/*.plan.json corpus/plan/ 2>/dev/null || true
for f in "$root"/fixtures/corpus/aws-config/*.json "$root"/fixtures/emit/config.json \
         "$root"/fixtures/policies/*/*.config.json; do
  cp "$f" corpus/aws_config/
done
find "$root"/policies "$root"/fixtures -name '*.yaml' -exec cp {} corpus/policy/ \;
cp seeds/config/*.yaml corpus/config/
cp "$root"/fixtures/emit/policies/*.yaml corpus/config/
# Every crash found so far stays a seed.
for t in plan aws_config policy config; do
  [ -d "regressions/$t" ] && cp regressions/$t/* corpus/$t/ 2>/dev/null || true
done
for t in plan aws_config policy config; do echo "$t: $(ls corpus/$t | wc -l) seeds"; done
