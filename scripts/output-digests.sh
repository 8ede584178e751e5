#!/usr/bin/env bash
# The sha256 of every file a fixed set of runs writes (each built-in dataset, each format, the schema
# examples, two scenarios, shards with their manifests, dirty data, a backfill, two threads, previews),
# sorted by path, on stdout. For a change that must not change output: run it on both commits, diff.
#   npm run build && bash scripts/output-digests.sh > before.sha256
# Manifests carry timings: they are hashed with every timing field dropped.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$(mktemp -d "${TMPDIR:-/tmp}/synthgen-digests.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
S="node dist/cli/synthgen.js"
G="$S generate --date 2026-01-15 --seed 7 --run-id golden --ignore-free-space"
for d in web-events tutoring-events merchant-metrics; do $G --dataset $d --files 3 --size-mb 0.3 --out "$OUT/$d" >/dev/null 2>&1; done
for f in ndjson.gz csv csv.gz parquet; do $G --format $f --files 2 --size-mb 0.5 --out "$OUT/fmt-$f" >/dev/null 2>&1; done
$G --format parquet --parquet-codec gzip --files 1 --size-mb 0.5 --out "$OUT/fmt-parquet-gzip" >/dev/null 2>&1
$G --format csv --dataset tutoring-events --files 1 --size-mb 0.3 --out "$OUT/fmt-csv-tut" >/dev/null 2>&1
$G --format parquet --dataset merchant-metrics --files 1 --size-mb 0.3 --out "$OUT/fmt-pq-mm" >/dev/null 2>&1
for x in orders web-events-like; do $G --dataset examples/$x.yaml --files 2 --size-mb 0.2 --out "$OUT/schema-$x" >/dev/null 2>&1 || echo "fail $x"; done
$G --dataset examples/orders.yaml --format parquet --files 1 --size-mb 0.2 --out "$OUT/schema-orders-pq" >/dev/null 2>&1
$S generate --date 2026-01-15 --run-id golden --scenario examples/shop.yaml --size-mb 0.5 --out "$OUT/scenario-shop" >/dev/null 2>&1
$S generate --date 2026-01-15 --run-id golden --scenario examples/shop.yaml --size-mb 0.5 --format csv --out "$OUT/scenario-shop-csv" >/dev/null 2>&1
$G --files 6 --size-mb 0.1 --shards 3 --out "$OUT/shards" >/dev/null 2>&1
$G --files 3 --size-mb 0.2 --dirty malformed=0.02,duplicate=0.02,wrong_type=0.02,missing_required=0.02,out_of_range=0.02,late=0.02 --out "$OUT/dirty" >/dev/null 2>&1
$S generate --seed 7 --run-id golden --files 2 --size-mb 0.1 --from 2026-01-01 --to 2026-01-03 --daily-curve --out "$OUT/backfill" >/dev/null 2>&1
$G --files 4 --size-mb 0.2 --threads 2 --out "$OUT/threads2" >/dev/null 2>&1
$S preview --date 2026-01-15 --dataset examples/orders.yaml -n 5 --seed 3 > "$OUT/preview-orders.txt" 2>&1 || true
$S preview --date 2026-01-15 --scenario examples/shop.yaml -n 2 > "$OUT/preview-shop.txt" 2>&1 || true
$S generate --date 2026-01-15 --run-id golden --scenario examples/web-world.yaml --size-mb 0.3 --out "$OUT/scenario-web-world" >/dev/null 2>&1
$S preview --date 2026-01-15 --dataset tutoring-events -n 20 --dirty malformed=0.1,duplicate=0.1 > "$OUT/preview-tut.txt"
(cd "$OUT" && find . -type f -not -path '*_manifests*' | sort | xargs sha256sum)
for m in $(cd "$OUT" && find . -path '*_manifests*' -type f | sort); do
  printf '%s  %s (timings dropped)\n' "$(node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));const drop=(o)=>{if(Array.isArray(o))return o.map(drop);if(o&&typeof o==="object"){const r={};for(const k of Object.keys(o)){if(/(_ms|_at|_s|mb_per_s|seconds|time)$/.test(k))continue;r[k]=drop(o[k]);}return r;}return o;};process.stdout.write(JSON.stringify(drop(j)))' "$OUT/$m" | sha256sum | cut -c1-64)" "$m"
done
