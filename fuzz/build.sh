#!/usr/bin/env bash
# Builds the libFuzzer targets into OUT (default .build/fuzz): `decoder` and `config`.
#
# Each module the target needs is compiled with swiftc straight from Sources/ (no SwiftPM build, so it
# works from a clean clone): -sanitize=fuzzer,address instruments our code (coverage + ASan); libsodium
# comes from the system (libsodium-dev). The config target also compiles Yams (CYaml C sources with
# clang, then the Swift module) from SwiftPM's checkout (`swift package resolve` fetches it when missing).
# A module is rebuilt only when one of its inputs changed (a hash of the sources and flags is kept).
#
# Usage: fuzz/build.sh [decoder|config|all] [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
which=${1:-all}
out=${2:-$root/.build/fuzz}
mkdir -p "$out/modules"
mods=$out/modules

SAN=(-sanitize=fuzzer,address)
SWIFT_FLAGS=(-O -parse-as-library -wmo -I "$mods" -I "$root/Sources/CSodium" -gline-tables-only)

# stamp NAME INPUTS... : true when NAME must be rebuilt; records the new hash when it is.
needs_build() {
    local name=$1; shift
    local hash
    hash=$( { printf '%s\n' "${SAN[@]}" "${SWIFT_FLAGS[@]}" "$(swiftc --version 2>&1 | head -1)"; cat "$@"; } | sha256sum | cut -d' ' -f1)
    if [ -f "$mods/$name.stamp" ] && [ "$(cat "$mods/$name.stamp")" = "$hash" ] && [ -f "$mods/$name.o" ]; then
        return 1
    fi
    echo "$hash" > "$mods/$name.pending"
    return 0
}
done_build() { mv "$mods/$1.pending" "$mods/$1.stamp"; }

# swift_module NAME "DEPS" SOURCES... : compiles one Swift module to $mods/NAME.o + NAME.swiftmodule;
# rebuilt when its sources, the flags or one of the modules DEPS changed.
swift_module() {
    local name=$1 deps=$2; shift 2
    local stamps=()
    for d in $deps; do stamps+=("$mods/$d.stamp"); done
    if needs_build "$name" "$@" "${stamps[@]}"; then
        echo "fuzz/build: compiling $name ($# files)" >&2
        swiftc "${SAN[@]}" "${SWIFT_FLAGS[@]}" -module-name "$name" -emit-module -emit-module-path "$mods/$name.swiftmodule" \
            -c -o "$mods/$name.o" "$@" "${EXTRA[@]}"
        done_build "$name"
    fi
}

sources() { find "$root/Sources/$1" -name '*.swift' | sort; }

EXTRA=()
swift_module NetHealCore "" $(sources NetHealCore)
swift_module NetHealWire "NetHealCore" $(sources NetHealWire)
swift_module NetHealSodium "NetHealCore NetHealWire" $(sources NetHealSodium)

link() {
    local target=$1; shift
    echo "fuzz/build: linking $target" >&2
    swiftc "${SAN[@]}" "${SWIFT_FLAGS[@]}" -use-ld=lld -module-name "${target^}Fuzz" -o "$out/$target" "$@"
}

if [ "$which" = decoder ] || [ "$which" = all ]; then
    link decoder "$root/fuzz/decoder/DecoderFuzz.swift" "$mods/NetHealCore.o" "$mods/NetHealWire.o" "$mods/NetHealSodium.o" -lsodium
fi

if [ "$which" = config ] || [ "$which" = all ]; then
    yams=$root/.build/checkouts/Yams
    [ -d "$yams/Sources/Yams" ] || swift package resolve >&2
    cyaml=$yams/Sources/CYaml
    if needs_build CYaml "$cyaml"/src/*.c "$cyaml"/src/*.h "$cyaml"/include/*.h; then
        echo "fuzz/build: compiling CYaml" >&2
        rm -f "$mods"/cyaml-*.o
        for c in "$cyaml"/src/*.c; do
            clang -O1 -fsanitize=fuzzer-no-link,address -DYAML_DECLARE_STATIC -I "$cyaml/include" -c "$c" \
                -o "$mods/cyaml-$(basename "$c" .c).o"
        done
        ld -r -o "$mods/CYaml.o" "$mods"/cyaml-*.o
        done_build CYaml
    fi
    EXTRA=(-D SWIFT_PACKAGE -Xcc -DYAML_DECLARE_STATIC -I "$cyaml/include" -Xcc -fmodule-map-file="$cyaml/include/module.modulemap")
    swift_module Yams "CYaml" $(find "$yams/Sources/Yams" -name '*.swift' | sort)
    swift_module NetHealConfig "NetHealCore Yams" $(sources NetHealConfig)
    EXTRA=()
    link config "$root/fuzz/config/ConfigFuzz.swift" "$mods/NetHealCore.o" "$mods/CYaml.o" "$mods/Yams.o" "$mods/NetHealConfig.o" \
        -Xcc -DYAML_DECLARE_STATIC -I "$cyaml/include" -Xcc -fmodule-map-file="$cyaml/include/module.modulemap"
fi
