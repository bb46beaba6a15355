#!/bin/sh
# Pool node entrypoint: every setting from environment variables and mounted files, so one image
# serves any node of any cluster. Runs `edgesearch pool serve`; SIGTERM reaches node directly
# (exec), which drains in-flight queries before exiting.
#
#   EDGESEARCH_CONFIG               cluster config (JSON, mounted)                 required
#   EDGESEARCH_NODE_ID              this node's id in the config    default: from the host name's
#                                   ordinal suffix (StatefulSet pod pool-2 -> node pool-2)
#   EDGESEARCH_POOL_KEY_FILE        file holding the HMAC signing key (or EDGESEARCH_POOL_KEY)
#   EDGESEARCH_POOL_KEY_ACCEPTED_FILE  file holding a second key accepted on requests during a
#                                   signing key rotation (or EDGESEARCH_POOL_KEY_ACCEPTED; optional)
#   EDGESEARCH_POOL_ADMIN_KEY_FILE  file holding the admin key (optional: hot swaps refused without)
#   EDGESEARCH_PORT, EDGESEARCH_HOST  listen port / address      default: the node's URL in the config
#   EDGESEARCH_SHARED               where models/ manifests find the model files (image: /shared)
#   EDGESEARCH_APP                  the app directory                             default: /app
set -eu

if [ -n "${EDGESEARCH_POOL_KEY_FILE:-}" ]; then
  EDGESEARCH_POOL_KEY="$(cat "$EDGESEARCH_POOL_KEY_FILE")"
  export EDGESEARCH_POOL_KEY
fi
if [ -n "${EDGESEARCH_POOL_KEY_ACCEPTED_FILE:-}" ]; then
  EDGESEARCH_POOL_KEY_ACCEPTED="$(cat "$EDGESEARCH_POOL_KEY_ACCEPTED_FILE")"
  export EDGESEARCH_POOL_KEY_ACCEPTED
fi
if [ -n "${EDGESEARCH_POOL_ADMIN_KEY_FILE:-}" ]; then
  EDGESEARCH_POOL_ADMIN_KEY="$(cat "$EDGESEARCH_POOL_ADMIN_KEY_FILE")"
  export EDGESEARCH_POOL_ADMIN_KEY
fi
: "${EDGESEARCH_CONFIG:?set EDGESEARCH_CONFIG to the mounted cluster config (JSON)}"
if [ -z "${EDGESEARCH_POOL_KEY:-}" ]; then
  echo "entrypoint: no signing key: set EDGESEARCH_POOL_KEY_FILE (a mounted secret) or EDGESEARCH_POOL_KEY" >&2
  exit 64
fi
node_id="${EDGESEARCH_NODE_ID:-}"
if [ -z "$node_id" ]; then
  host="$(hostname)"
  case "$host" in
    *-[0-9]*) node_id="$host" ;;
    *) echo "entrypoint: set EDGESEARCH_NODE_ID (the host name $host has no ordinal suffix)" >&2; exit 64 ;;
  esac
fi

set -- pool serve --config "$EDGESEARCH_CONFIG" --node "$node_id"
[ -n "${EDGESEARCH_PORT:-}" ] && set -- "$@" --port "$EDGESEARCH_PORT"
[ -n "${EDGESEARCH_HOST:-}" ] && set -- "$@" --host "$EDGESEARCH_HOST"
exec node "${EDGESEARCH_APP:-/app}/bin/edgesearch.js" "$@"
