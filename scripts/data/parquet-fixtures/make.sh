#!/usr/bin/env bash
# make.sh — regenerates the Parquet fixtures of lmtrain's Parquet reader tests with Apache parquet-mr
# (an independent implementation) into java/src/test/resources/ai/lmtrain/data/parquet/.
# Needs Maven Central (parquet-hadoop, hadoop-client); run by hand, never by the build.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
out="$root/java/src/test/resources/ai/lmtrain/data/parquet"
cd "$here"
mvn -B -q compile dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
java -cp "target/classes:$(cat target/classpath.txt)" MakeParquetFixtures "$out"
rm -rf target
ls -l "$out"
