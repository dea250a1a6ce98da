#!/bin/bash
# Question sets and message catalogs: every localized string in all 24 EU
# languages, same placeholders in every catalog, sets well formed.
set -u
src=${IMI_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
out=$(python3 "$src/tools/check-templates.py" "$src/templates" 2>&1)
rc=$?
summary=$(printf '%s\n' "$out" | tail -n 1)
if [ "$rc" = 0 ]; then
	echo "ok - templates: $summary"
else
	printf '%s\n' "$out" | sed 's/^/# /'
	echo "not ok - templates: $summary"
	exit 1
fi
