#!/usr/bin/env bash
# bundle.sh — builds a self-contained folder that runs lmtrain and its tests on a Linux x86-64
# (GPU) host with no JDK and no Maven:
#
#   bundle/runtime/            jlink'ed Java runtime: java.base plus only the modules that jdeps finds
#                              in the shaded jar, the test classes and the JUnit console launcher,
#                              except java.desktop (PNG plots; see below)
#   bundle/lib/lmtrain.jar     the shaded jar (classes, dependencies, liblmtrain.so)
#   bundle/lib/test-classes/   the compiled tests (and their resources)
#   bundle/lib/test/           test-scope jars not already in the jar or the console launcher (often none)
#   bundle/lib/junit-platform-console-standalone.jar
#   bundle/bin/lmtrain         the CLI on the bundled runtime
#   bundle/bin/run-tests       the JUnit console launcher over the bundled tests
#   bundle/scripts/bench/      the PyTorch peer scripts of `lmtrain bench` (need torch, transformers for train)
#   bundle/build-info.json     the commit it was built from (and whether the tree had changes), date, CUDA mode;
#                              scripts/gpu-check reports it and warns when the tree has moved on
#
# Usage: scripts/bundle.sh [--out DIR] [--cuda ON|OFF|AUTO] [--no-build]
#   --out DIR     where to write the bundle (default: bundle/ in the repository root; replaced)
#   --cuda MODE   CUDA backend of the native core: ON (default; needs nvcc), OFF, or AUTO (when nvcc is found)
#   --no-build    use the jar and test classes already in java/target instead of running
#                 'mvn -B -q -Dcuda=MODE -DskipTests package'
# Fails if the bundle exceeds 60 MB (60,000,000 bytes). Copy the folder to the GPU host and run, for example:
#   bundle/bin/lmtrain devices
#   bundle/bin/lmtrain selftest --device cuda
#   bundle/bin/run-tests --tags gpu
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/bundle"
cuda="ON"
build=1
limit_bytes=60000000

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) [[ $# -ge 2 ]] || usage; out="$2"; shift 2 ;;
    --cuda) [[ $# -ge 2 ]] || usage; cuda="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) usage ;;
    *) echo "bundle.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
case "$cuda" in ON|OFF|AUTO) ;; *) echo "bundle.sh: --cuda must be ON, OFF or AUTO (got '$cuda')" >&2; exit 2 ;; esac

jdk_bin="${JAVA_HOME:+$JAVA_HOME/bin/}"
for tool in jlink jdeps; do
  command -v "${jdk_bin}$tool" >/dev/null || { echo "bundle.sh: ${jdk_bin}$tool not found (a full JDK 17+ is needed)" >&2; exit 1; }
done

version="$(sed -n 's:.*<version>\([^<]*\)</version>.*:\1:p' "$root/pom.xml" | head -1)"
jar="$root/java/target/lmtrain-$version.jar"
test_classes="$root/java/target/test-classes"
junit_version="$(sed -n 's:.*<junit.version>\([^<]*\)</junit.version>.*:\1:p' "$root/java/pom.xml" | head -1)"
platform_version="1.${junit_version#5.}" # JUnit Jupiter 5.x.y ships with JUnit Platform 1.x.y

if [[ $build -eq 1 ]]; then
  echo "bundle.sh: building $jar (mvn package, CUDA $cuda, tests compiled but not run) ..." >&2
  (cd "$root" && mvn -B -q -Dcuda="$cuda" -DskipTests package) >&2
fi
[[ -f "$jar" ]] || { echo "bundle.sh: $jar is missing (run without --no-build)" >&2; exit 1; }
[[ -d "$test_classes" ]] || { echo "bundle.sh: $test_classes is missing (run without --no-build)" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out/bin" "$out/lib/test"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# --- jars: the shaded jar, the tests, the console launcher, test-only dependencies ---------------
cp "$jar" "$out/lib/lmtrain.jar"
cp -r "$test_classes" "$out/lib/test-classes"
# The parser fuzz tests (Jazzer, 8 MB) run in the build, not on GPU servers.
rm -rf "$out/lib/test-classes/ai/lmtrain/fuzz"
mvn -B -q -f "$root/java/pom.xml" dependency:copy \
  -Dartifact="org.junit.platform:junit-platform-console-standalone:$platform_version" \
  -DoutputDirectory="$work" >&2
mv "$work/junit-platform-console-standalone-$platform_version.jar" "$out/lib/junit-platform-console-standalone.jar"
# Test-scope dependencies: compile-scope ones are inside the shaded jar, and JUnit (Jupiter,
# Platform, opentest4j, apiguardian) is inside the console launcher; copy whatever else there is.
mvn -B -q -f "$root/java/pom.xml" dependency:list -DincludeScope=test -DoutputFile="$work/deps.txt" >&2
sed -n 's/^ *\([^ ]*\):test\( .*\)\{0,1\}$/\1/p' "$work/deps.txt" \
  | { grep -Ev '^(org\.junit\.|org\.opentest4j:|org\.apiguardian:|com\.code-intelligence:)' || true; } \
  | while IFS=: read -r -a gav; do # group:artifact:type[:classifier]:version
      if [[ ${#gav[@]} -eq 5 ]]; then coords="${gav[0]}:${gav[1]}:${gav[4]}:${gav[2]}:${gav[3]}"
      else coords="${gav[0]}:${gav[1]}:${gav[3]}:${gav[2]}"; fi
      mvn -B -q -f "$root/java/pom.xml" dependency:copy -Dartifact="$coords" -DoutputDirectory="$out/lib/test" >&2
    done

# --- runtime: java.base plus the modules the code needs ------------------------------------------
modules="$("${jdk_bin}jdeps" --print-module-deps --ignore-missing-deps --multi-release 17 \
  "$out/lib/lmtrain.jar" "$out/lib/junit-platform-console-standalone.jar" "$out/lib/test-classes")"
# java.desktop (AWT, ~9 MiB) only serves the PNG loss plots; without it the bundle stays well under its
# size limit, runs write metrics.jsonl and skip the PNG, and `lmtrain plot` draws it on any full JDK.
modules="$(tr ',' '\n' <<<"$modules" | grep -vx 'java.desktop' | paste -sd, -)"
echo "bundle.sh: runtime modules: $modules" >&2
"${jdk_bin}jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --compress=2 \
  --output "$out/runtime"
# Debian-style JDKs ship libjvm.so with its symbol table (about 4 MB); the bundle does not need it.
if command -v strip >/dev/null; then
  find "$out/runtime" -name '*.so' -exec strip --strip-unneeded {} +
fi

# --- entry scripts --------------------------------------------------------------------------------
cp "$root/scripts/lmtrain" "$out/bin/lmtrain" # detects runtime/bin/java and lib/lmtrain.jar beside bin/
mkdir -p "$out/scripts" && cp -r "$root/scripts/bench" "$out/scripts/bench" # peers of lmtrain bench (found above lib/)
rm -rf "$out/scripts/bench/__pycache__"
cat > "$out/bin/run-tests" <<'EOF'
#!/usr/bin/env bash
# run-tests — the JUnit console launcher over the bundled tests, on the bundled runtime.
#   bin/run-tests                     every test class
#   bin/run-tests --tags gpu          only tests tagged gpu (same as --include-tag gpu)
#   bin/run-tests --select-class ai.lmtrain.tensor.ElementwiseKernelsTest
# Other arguments go to the console launcher ('bin/run-tests --help' lists them). Without a
# --select-* or --scan-* argument the whole test-classes folder is scanned.
#   LMTRAIN_JAVA_OPTS   extra JVM options (e.g. -Xmx8g)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
class_path="$root/lib/lmtrain.jar:$root/lib/test-classes"
for j in "$root"/lib/test/*.jar; do
  [[ -e "$j" ]] && class_path="$class_path:$j"
done
args=()
scan=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --tags) [[ $# -ge 2 ]] || { echo "run-tests: --tags needs a tag expression" >&2; exit 2; }
            args+=(--include-tag "$2"); shift 2 ;;
    --select*|--scan*|-c|-m|-p|-d|-f|-u|-r|-o|-h|--help) scan=0; args+=("$1"); shift ;;
    *) args+=("$1"); shift ;;
  esac
done
[[ $scan -eq 1 ]] && args+=(--scan-class-path "$root/lib/test-classes")
[[ -t 1 ]] || args+=(--disable-ansi-colors)
# shellcheck disable=SC2086
exec "$root/runtime/bin/java" ${LMTRAIN_JAVA_OPTS:-} -jar "$root/lib/junit-platform-console-standalone.jar" \
  execute --class-path "$class_path" --disable-banner --details=tree "${args[@]}"
EOF
chmod +x "$out/bin/lmtrain" "$out/bin/run-tests"
commit="$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)"
dirty=false
[[ -n "$(git -C "$root" status --porcelain -- java native pom.xml CMakeLists.txt 2>/dev/null)" ]] && dirty=true
printf '{"commit": "%s", "uncommitted_changes": %s, "built": "%s", "cuda": "%s"}\n' \
  "$commit" "$dirty" "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" "$cuda" > "$out/build-info.json"

# --- size -------------------------------------------------------------------------------------------
mib() { du -sk "$@" | awk '{ kib += $1 } END { printf "%.1f", kib / 1024 }'; }
total_bytes=$(du -sb "$out" | cut -f1)
echo "bundle.sh: $out is $(mib "$out") MiB (runtime $(mib "$out/runtime"), lmtrain.jar $(mib "$out/lib/lmtrain.jar"), \
tests and launcher $(mib "$out/lib/test-classes" "$out/lib/test" "$out/lib/junit-platform-console-standalone.jar")); limit $limit_bytes bytes"
if (( total_bytes > limit_bytes )); then
  echo "bundle.sh: the bundle ($total_bytes bytes) exceeds $limit_bytes bytes" >&2
  exit 1
fi
