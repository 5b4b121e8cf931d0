#!/usr/bin/env bash
# format.sh ROOT -- every C source and header in git follows .clang-format
# (Debian's clang-format 14, --dry-run --Werror): formatting is checked,
# never argued in review (STYLE.md).  Prints each file that differs and how
# to fix it.
set -u
root=$1
cd "$root" || exit 1
if ! command -v clang-format >/dev/null; then
	echo "skip: clang-format not installed (apt-get install clang-format)"
	[ -n "${NVMSG_CI:-}" ] && exit 1
	exit 77
fi
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	echo "skip: not a git checkout (the file list comes from git)"
	[ -n "${NVMSG_CI:-}" ] && exit 1
	exit 77
fi
bad=0
n=0
while IFS= read -r f; do
	n=$((n + 1))
	if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "not formatted: $f"
		bad=$((bad + 1))
	fi
done < <(git ls-files '*.c' '*.h')
if [ "$bad" -gt 0 ]; then
	echo "format: $bad of $n files differ from .clang-format; fix with:"
	echo "  git ls-files '*.c' '*.h' | xargs clang-format -i"
	exit 1
fi
echo "format: $n files follow .clang-format ($(clang-format --version))"
