# udp-gateway container image. Build: docker build -t udp-gateway .
# Run:   docker run -p 5555:5555/udp -v "$PWD/config.yaml:/etc/udp-gateway/config.yaml:ro" \
#          -e UDPGW_SECRET=... udp-gateway
# Listeners and the admin API must bind 0.0.0.0 in the config to be reachable from outside the
# container (the CDK stack in infra/ does that for you).

# --- build: dev dependencies, TypeScript, the native UDP addon (recvmmsg/sendmmsg; optional) ---
FROM node:20-bookworm-slim AS build
# node-gyp needs python3, make and a C compiler; headers come from the image (/usr/local/include/node).
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
COPY examples ./examples
COPY scripts ./scripts
# The package's install script: builds build/Release/udp_native.node, or falls back to dgram.
RUN npm run install && mkdir -p build/Release \
 && npm run build \
 && npm prune --omit=dev \
 && npm cache clean --force

# --- runtime: production dependencies and compiled output only, non-root ---
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/build/Release ./build/Release
COPY --from=build /src/examples ./examples
USER node
# Defaults of the example config: UDP listener 5555, admin API (health, metrics) 9555/tcp.
EXPOSE 5555/udp 9555/tcp
HEALTHCHECK --interval=15s --timeout=3s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.UDPGW_ADMIN_PORT||9555)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "dist/app/cli.js"]
CMD ["start", "--config", "/etc/udp-gateway/config.yaml"]
