#!/usr/bin/env bash
# `buf breaking` against the last landed main, without network or prompts.
# Base: the merge base of HEAD with origin/main (if that remote-tracking ref
# exists), else with the local branch main. Skipped, successfully, when there
# is no such commit, when the proto tree there is not present, or when the base
# is HEAD itself and proto/ and buf.yaml have no uncommitted changes (nothing
# other than the working state to compare with). Override: BUF_BREAKING_AGAINST
# (any buf input, e.g. '.git#ref=<sha>').
set -euo pipefail
export GIT_TERMINAL_PROMPT=0
cd "$(dirname "$0")/.."

BUF=(npx --no -- buf)
skip() { echo "buf breaking: skipped (no landed main to compare)${1:+ [$1]}"; exit 0; }

if [ -n "${BUF_BREAKING_AGAINST:-}" ]; then
  echo "buf breaking --against '$BUF_BREAKING_AGAINST'"
  exec "${BUF[@]}" breaking --against "$BUF_BREAKING_AGAINST"
fi

command -v git >/dev/null 2>&1 || skip "git not installed"
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || skip "not a git work tree"
head=$(git rev-parse -q --verify 'HEAD^{commit}' 2>/dev/null) || skip "no commit yet"

base="" main_ref=""
for ref in refs/remotes/origin/main refs/heads/main; do
  if tip=$(git rev-parse -q --verify "$ref^{commit}" 2>/dev/null); then
    main_ref=${ref#refs/*/}
    # Merge base, so commits landed on main after this branch forked are not
    # reported as deletions; a shallow clone may not have it: use the tip.
    base=$(git merge-base "$head" "$tip" 2>/dev/null || echo "$tip")
    break
  fi
done
[ -n "$base" ] || skip "no origin/main or main branch"

git cat-file -e "$base:proto" 2>/dev/null || skip "proto/ absent at $main_ref ${base:0:12}"
git cat-file -e "$base:buf.yaml" 2>/dev/null || skip "buf.yaml absent at $main_ref ${base:0:12}"

SPEC=(':(glob)proto/**/*.proto' buf.yaml)
if [ "$base" = "$head" ] &&
   git diff --quiet HEAD -- "${SPEC[@]}" 2>/dev/null &&
   [ -z "$(git ls-files --others --exclude-standard -- "${SPEC[@]}")" ]; then
  skip "working tree is $main_ref ${base:0:12} with no proto changes"
fi

echo "buf breaking --against '.git#ref=$base' ($main_ref)"
"${BUF[@]}" breaking --against ".git#ref=$base"
