# syntax=docker/dockerfile:1
# The pool node image for CPU machines. Multi-stage: the builder compiles the faiss binding against
# Debian's libfaiss-dev and installs the npm dependencies; the runtime stage holds only the shared
# libraries, Node and the app, runs as a non-root user and works on a read-only root file system
# (writable: /tmp and the index volume).
#
#   podman build -f infra/docker/pool-cpu.Dockerfile -t edgesearch/pool-cpu .
#   podman run --read-only --tmpfs /tmp -v ./index:/data:ro -v ./cluster.json:/etc/edgesearch/cluster.json:ro \
#     -v ./pool.key:/run/secrets/pool-key:ro -e EDGESEARCH_NODE_ID=node0 -p 7700:7700 edgesearch/pool-cpu
#
# BASE: any Debian bookworm image, e.g. one made locally with debootstrap (infra/README.md, Images).
# Node 20 comes from NODE_IMAGE (the official node:20-bookworm-slim by default): Debian bookworm's
# own nodejs is 18, and wrangler (edge only) and this code are tested on Node 20.
ARG BASE=docker.io/library/debian:bookworm-slim
ARG NODE_IMAGE=docker.io/library/node:20-bookworm-slim

FROM ${NODE_IMAGE} AS node

FROM ${BASE} AS builder
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libfaiss-dev libopenblas-dev python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
COPY --from=node /usr/local/include/node /usr/local/include/node
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
# node-gyp (npm's own) builds against these headers: nothing downloaded.
ENV npm_config_nodedir=/usr/local
WORKDIR /app
COPY package.json package-lock.json ./
COPY gpu-pool/engine/native gpu-pool/engine/native
# The CPU runtime bundled with onnxruntime-node; nothing to download.
ENV ONNXRUNTIME_NODE_INSTALL=skip
RUN npm ci --omit=dev --ignore-scripts \
 && node /usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js rebuild --directory gpu-pool/engine/native
COPY bin bin
COPY gpu-pool gpu-pool
COPY shared shared
# The CLI's `edge keygen` reads the edge's key format (runtime-neutral code).
COPY edge edge
COPY models models
RUN rm -rf gpu-pool/engine/native/build/Release/obj.target && find . -name '*.test.ts' -delete

FROM ${BASE}
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libopenblas0-pthread libgomp1 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 edgesearch && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin edgesearch
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=builder --chown=root:root /app /app
COPY --chmod=0755 infra/docker/entrypoint.sh /usr/local/bin/edgesearch-entrypoint
# Model files: mount the shared models at /shared/models (models/*/manifest.json point there).
ENV NODE_ENV=production EDGESEARCH_CONFIG=/etc/edgesearch/cluster.json EDGESEARCH_POOL_KEY_FILE=/run/secrets/pool-key TMPDIR=/tmp EDGESEARCH_SHARED=/shared
USER 10001:10001
WORKDIR /app
EXPOSE 7700
HEALTHCHECK --interval=10s --timeout=3s --start-period=120s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.EDGESEARCH_PORT || 7700) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/local/bin/edgesearch-entrypoint"]
