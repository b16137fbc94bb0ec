# Sourced by the benchmark scripts, from the repository's top: installs what is needed, builds
# everything (tests are the test command's job), and puts async-profiler's library, the peer,
# from the jar Maven fetched (bench/pom.xml) into out/bench.
source scripts/setup.sh
mvn -B -ntp -q package -DskipTests
out=$PWD/out/bench
mkdir -p "$out"
unzip -o -q -j bench/target/peer/async-profiler.jar linux-x64/libasyncProfiler.so -d "$out"
