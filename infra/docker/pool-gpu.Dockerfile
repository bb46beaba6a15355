# syntax=docker/dockerfile:1
# The pool node image for NVIDIA GPU nodes: the CPU image's build on a CUDA runtime base, with
# onnxruntime-node's CUDA provider fetched at image build time (ONNXRUNTIME_NODE_INSTALL=cuda12;
# npm does not ship it). faiss stays Debian's CPU build: the encoders run on the GPU, the quantized
# indexes on the CPU. The node falls back to the CPU provider, with a warning, where no GPU is visible.
#
#   podman build -f infra/docker/pool-gpu.Dockerfile -t edgesearch/pool-gpu .
#   podman run --device nvidia.com/gpu=all --read-only --tmpfs /tmp ... edgesearch/pool-gpu
ARG BASE=docker.io/nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04
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
# onnxruntime-node's install script downloads the CUDA 12 provider into its bin/ directory.
ENV ONNXRUNTIME_NODE_INSTALL=cuda12
RUN npm ci --omit=dev --ignore-scripts \
 && (cd node_modules/onnxruntime-node && node script/install) \
 && test -f node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so \
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
ENV NODE_ENV=production EDGESEARCH_CONFIG=/etc/edgesearch/cluster.json EDGESEARCH_POOL_KEY_FILE=/run/secrets/pool-key TMPDIR=/tmp EDGESEARCH_SHARED=/shared \
    NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=compute,utility
USER 10001:10001
WORKDIR /app
EXPOSE 7700
HEALTHCHECK --interval=10s --timeout=3s --start-period=180s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.EDGESEARCH_PORT || 7700) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/local/bin/edgesearch-entrypoint"]
