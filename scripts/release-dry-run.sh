#!/usr/bin/env bash
# Rehearses a release in a throwaway copy of the working tree, never the tree itself:
# `pnpm changeset version`, then `pnpm publish -r --dry-run`. Fails unless the published packages
# are exactly changesets' one `fixed` group, every one gets the same new version and a
# CHANGELOG.md, and every one would be published with its CHANGELOG.md. The registry is pointed at a closed local port, so the rehearsal cannot write to
# (or read from) a real one: pnpm's "is this version already published?" lookup is refused at once
# (no retries) and every package counts as unpublished. Run it after `pnpm test`, which builds the
# `dist` folders it packs.
set -euo pipefail
cd "$(dirname "$0")/.."

copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
# The copy keeps uncommitted changes, built `dist` folders and node_modules (pnpm's links are
# relative); it drops .git so nothing here can touch the repository's history or tags.
rsync -a --exclude=/.git --exclude=.turbo ./ "$copy/"
cd "$copy"

export npm_config_registry=http://127.0.0.1:9/ npm_config_fetch_retries=0
published=$(node --input-type=module -e '
  import { readdirSync, readFileSync } from "node:fs";
  for (const dir of readdirSync("packages")) {
    const manifest = JSON.parse(readFileSync(`packages/${dir}/package.json`, "utf8"));
    if (!manifest.private) console.log(`${dir} ${manifest.name} ${manifest.version}`);
  }')

# One fixed group of every published package: they are always released together at one version,
# so each depends on core at exactly the version published beside it, and a user who keeps them
# at one version has one copy of core (README, "Versions").
node --input-type=module -e '
  import { readFileSync } from "node:fs";
  const published = process.argv[1].split("\n").map((line) => line.split(" ")[1]).sort();
  const { fixed } = JSON.parse(readFileSync(".changeset/config.json", "utf8"));
  const group = [...(fixed.length === 1 ? fixed[0] : [])].sort();
  if (JSON.stringify(group) !== JSON.stringify(published)) {
    console.error(`release-dry-run: .changeset/config.json must have one "fixed" group of exactly the published packages`);
    console.error(`  published: ${published.join(", ")}`);
    console.error(`  fixed:     ${JSON.stringify(fixed)}`);
    process.exit(1);
  }' "$published"

pnpm changeset version
if find .changeset -name '*.md' ! -name README.md | grep -q .; then
  echo "release-dry-run: changesets left unconsumed after 'changeset version'" >&2
  exit 1
fi

problems=0
while read -r dir name old; do
  new=$(node -p "require('./packages/$dir/package.json').version")
  if [[ ! -s packages/$dir/CHANGELOG.md ]]; then
    echo "release-dry-run: $name has no CHANGELOG.md after 'changeset version'" >&2
    problems=1
  elif [[ $new == "$old" ]]; then
    echo "release-dry-run: $name stayed at $old; add a changeset or mark it private" >&2
    problems=1
  else
    echo "release-dry-run: $name $old -> $new, CHANGELOG.md written"
  fi
done <<<"$published"
((problems == 0)) || exit 1
versions=$(while read -r dir _ _; do node -p "require('./packages/$dir/package.json').version"; done <<<"$published" | sort -u)
if [[ $(wc -l <<<"$versions") != 1 ]]; then
  echo "release-dry-run: the fixed group came out at more than one version: $(tr '\n' ' ' <<<"$versions")" >&2
  exit 1
fi

log=$(mktemp)
pnpm publish -r --dry-run --no-git-checks >"$log" 2>&1 || {
  cat "$log"
  echo "release-dry-run: pnpm publish -r --dry-run failed" >&2
  exit 1
}
grep -v '^npm notice' "$log"
while read -r dir name _; do
  new=$(node -p "require('./packages/$dir/package.json').version")
  # npm lists each tarball's contents under "📦  name@version"; the changelog must be among them.
  contents=$(awk -v pkg="$name@$new" '/npm notice 📦/ { on = index($0, pkg) > 0 } on' "$log")
  if ! grep -q "^+ $name@$new$" "$log"; then
    echo "release-dry-run: $name@$new was not in the publish dry run" >&2
    problems=1
  elif ! grep -Eq '^npm notice \S+ CHANGELOG\.md$' <<<"$contents"; then
    echo "release-dry-run: the $name tarball would ship without CHANGELOG.md" >&2
    problems=1
  fi
done <<<"$published"
rm -f "$log"
((problems == 0)) || exit 1
echo "release-dry-run: ok ($(wc -l <<<"$published") packages)"
