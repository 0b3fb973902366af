# Sourced by scripts/start and .ci/run. Corepack cannot verify registry signatures on our machines,
# so pnpm comes from npm when it is missing.
if ! command -v pnpm >/dev/null 2>&1; then
  npm install --global pnpm@10
fi
