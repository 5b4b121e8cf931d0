#!/usr/bin/env bash
# install.sh -- cmake --install puts the header, the library, the CLI, the
# man pages and a relocatable pkg-config file under a prefix, and a
# program built with `pkg-config --cflags --libs nvmsg` against that
# prefix runs (the README's C example path).
set -euo pipefail
build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
for f in include/nvmsg.h bin/nvmsg share/man/man1/nvmsg.1 share/man/man7/libnvmsg.7; do
	[ -e "$tmp/prefix/$f" ] || { echo "missing after install: $f"; exit 1; }
done
pc=$(dirname "$(find "$tmp/prefix" -name nvmsg.pc | head -1)")
cat >"$tmp/ex.c" <<'C'
#include <nvmsg.h>
#include <stdio.h>
int main(void)
{
	printf("libnvmsg %s, %s\n", nvmsg_version(),
	       nvmsg_tier_name(NVMSG_TIER_PMEM));
	return nvmsg_tier_parse("emulated") == NVMSG_TIER_EMULATED ? 0 : 1;
}
C
libdir=$(PKG_CONFIG_PATH="$pc" pkg-config --variable=libdir nvmsg)
# a sanitizer build's library needs its runtime first in the program
# (ldd read whole first: `ldd | grep -q` under pipefail fails when grep
# exits before ldd has written everything, a flake seen in CI)
san=
deps=$(ldd "$libdir/libnvmsg.so")
case $deps in *libasan*) san="-fsanitize=address,undefined" ;; esac
case $deps in *libtsan*) san="-fsanitize=thread" ;; esac
# shellcheck disable=SC2046,SC2086
cc $san "$tmp/ex.c" -o "$tmp/ex" $(PKG_CONFIG_PATH="$pc" pkg-config --cflags --libs nvmsg)
LD_LIBRARY_PATH="$libdir" "$tmp/ex"
"$tmp/prefix/bin/nvmsg" --version >/dev/null 2>&1 || LD_LIBRARY_PATH="$libdir" "$tmp/prefix/bin/nvmsg" --version
echo "install: header, library, CLI, man pages and pkg-config work from $tmp/prefix"
