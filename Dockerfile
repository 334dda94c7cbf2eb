# udp-gateway container image. Build: docker build -t udp-gateway .
#   Another Node.js line: docker build --build-arg NODE_VERSION=24 -t udp-gateway .
# Run:   docker run -p 5555:5555/udp -v "$PWD/config.yaml:/etc/udp-gateway/config.yaml:ro" \
#          -e UDPGW_SECRET=... udp-gateway
# Listeners and the admin API must bind 0.0.0.0 in the config to be reachable from outside the
# container (the CDK stack in infra/ does that for you). Without --config the gateway reads the
# whole config from UDPGW_CONFIG_JSON (the ECS task does that: docker run ... udp-gateway start).

# Node.js major of both stages: the current LTS line by default (26, LTS since October 2026).
ARG NODE_VERSION=26
# Debian release of the node image (trixie: Debian 13, supported by both LTS lines 24 and 26).
ARG DEBIAN_RELEASE=trixie

# --- build: dev dependencies, TypeScript, the native UDP addon (recvmmsg/sendmmsg; optional) ---
FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS build
# node-gyp needs python3, make and a C compiler; headers come from the image (/usr/local/include/node).
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json binding.gyp ./
COPY native ./native
COPY gateway ./gateway
COPY net ./net
COPY aws ./aws
COPY app ./app
COPY destinations ./destinations
COPY packet-source ./packet-source
COPY listener-protocols ./listener-protocols
COPY formatters ./formatters
COPY routers ./routers
COPY examples ./examples
COPY scripts ./scripts
# The package's install script: builds build/Release/udp_native.node, or falls back to dgram.
RUN npm run install && mkdir -p build/Release \
 && npm run build \
 && npm prune --omit=dev \
 && npm cache clean --force

# --- runtime: production dependencies and compiled output only, non-root, read-only friendly ---
FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/build/Release ./build/Release
COPY --from=build /src/examples ./examples
# The one directory the gateway writes (file destinations, file dead letters): relative paths such as
# data/packets.ndjson resolve against /app. Declared as a volume so a read-only root filesystem still
# has it; ECS copies this directory, with its owner, into the task's scratch volume mounted here.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME ["/app/data"]
USER node
# Defaults of the example config: UDP listener 5555, admin API (health, metrics) 9555/tcp.
EXPOSE 5555/udp 9555/tcp
HEALTHCHECK --interval=15s --timeout=3s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.UDPGW_ADMIN_PORT||9555)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/app/cli.js"]
CMD ["start", "--config", "/etc/udp-gateway/config.yaml"]
