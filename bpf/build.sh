#!/usr/bin/env bash
# Compiles every <probe>.bpf.c of this folder into a CO-RE object, and writes the Java side of
# what the objects share with the agent (gen/Skeletons.java: record layouts from the objects'
# BTF, #defines of the headers, names of programs, maps and .rodata tunables, per object and per
# shared .bpf.h header).
#
# vmlinux.h is generated here from the build host's kernel BTF rather than committed:
# CO-RE relocates every field access at load time, so the objects run on any kernel
# with BTF whatever kernel generated the header, and a 2.8 MB generated file in the
# repository would be noise in every diff. The build host needs /sys/kernel/btf/vmlinux
# and bpftool, which a BPF build host has anyway.
set -euo pipefail
shopt -s nullglob
here=$(cd "$(dirname "$0")" && pwd)
target=${1:-$here/target}
gen=$target/generated
out=$target/classes/io/jfrebpf/bpf
mkdir -p "$gen" "$out"

for tool in clang bpftool; do
  command -v "$tool" >/dev/null || { echo "bpf/build.sh: $tool not found; run scripts/setup.sh (installs clang llvm libbpf-dev libelf-dev bpftool)" >&2; exit 1; }
done
[ -r /sys/kernel/btf/vmlinux ] || { echo "bpf/build.sh: /sys/kernel/btf/vmlinux missing: the build host kernel has no BTF" >&2; exit 1; }

if [ ! -s "$gen/vmlinux.h" ]; then
  bpftool btf dump file /sys/kernel/btf/vmlinux format c > "$gen/vmlinux.h.tmp"
  mv "$gen/vmlinux.h.tmp" "$gen/vmlinux.h"
fi

arch=$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
for src in "$here"/*.bpf.c; do
  name=$(basename "$src" .bpf.c)
  obj=$out/$name.bpf.o
  if [ ! -e "$obj" ] || [ -n "$(find "$here" -maxdepth 1 \( -name '*.h' -o -name "$name.bpf.c" \) -newer "$obj" -print -quit)" ]; then
    clang -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$arch \
      -I"$gen" -I"$here" -I/usr/include/$(uname -m)-linux-gnu \
      -c "$src" -o "$obj.tmp"
    # strip DWARF (keeps BTF and .BTF.ext, which CO-RE needs): smaller jar
    llvm-strip -g "$obj.tmp"
    mv "$obj.tmp" "$obj"
    echo "bpf: compiled $name.bpf.o"
  fi
done

# Each shared kernel-side header (<name>.bpf.h) alone, into an object of its own that is never
# shipped: its BTF holds the maps, programs and tunables the header gives every object including
# it, which Skeletons.java writes down as the names the agent uses with any of those objects.
mkdir -p "$gen/headers"
for hdr in "$here"/*.bpf.h; do
  name=$(basename "$hdr" .bpf.h)
  obj=$gen/headers/$name.bpf.h.o
  if [ ! -e "$obj" ] || [ -n "$(find "$here" -maxdepth 1 -name '*.h' -newer "$obj" -print -quit)" ]; then
    # after the prelude every program has (common.bpf.h's): libbpf's headers define no names
    printf '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\n#include <bpf/bpf_tracing.h>\n#include <bpf/bpf_core_read.h>\n#include "%s.bpf.h"\n' \
      "$name" > "$gen/headers/$name.c"
    clang -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$arch \
      -I"$gen" -I"$here" -I/usr/include/$(uname -m)-linux-gnu \
      -c "$gen/headers/$name.c" -o "$obj.tmp"
    mv "$obj.tmp" "$obj"
  fi
done

# Syscall number -> name, generated from the build host's UAPI header (x86_64 numbers are
# append-only ABI, so a header older than the running kernel only lacks the newest names).
# The running kernel does not expose this table: ftrace's syscall metadata pointers live in
# init memory that is freed after boot. The agent prefers the running kernel's own headers
# when they are installed (/lib/modules/$(uname -r)/build) and falls back to this list.
unistd=/usr/include/$(uname -m)-linux-gnu/asm/unistd_64.h
[ -r "$unistd" ] || { echo "bpf/build.sh: $unistd missing (package linux-libc-dev)" >&2; exit 1; }
sed -n -E 's/^#define __NR_([a-z0-9_]+)[[:space:]]+([0-9]+)[[:space:]]*$/\2=\1/p' "$unistd" > "$out/syscalls.properties.tmp"
[ "$(wc -l < "$out/syscalls.properties.tmp")" -gt 300 ] || { echo "bpf/build.sh: too few syscalls in $unistd" >&2; exit 1; }
mv "$out/syscalls.properties.tmp" "$out/syscalls.properties"

# The Java side of every record layout and name, from the objects and headers themselves: a
# field is written once, in its header. Run with the build's JDK (JAVA_HOME, as Maven has it).
cc=${CC:-clang}
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
"$java" "$here/gen/Skeletons.java" "$out" "$here" "$target/generated-sources/java" "$cc" "$gen/headers"

# What generation cannot prove (checks.c): LayoutTest in agent/ compares it with the Java side.
"$cc" -O0 -Wall -Werror -I"$here" -o "$gen/checks" "$here/checks.c"
"$gen/checks" > "$out/checks.properties"
