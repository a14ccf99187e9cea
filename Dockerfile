# promgate's image: built with npm ci and npm run build, shipped as what `npm pack` makes of the package (dist/, the
# PromQL parser's module, configs/), installed with production dependencies only on a distroless Node 20.
# helm/test.sh proves what this image holds without a container engine: it runs the build stage's RUN lines in a copy
# of the context that .dockerignore lets through, installs the package with --omit=dev into an empty folder and runs
# it read-only as user 65532.
ARG NODE_IMAGE=node:20-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs20-debian12:nonroot

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
COPY parser/package.json parser/
# No install scripts run: nothing promgate uses needs one, and the parser's `prepare` needs its sources.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build && npm pack --silent && mv promgate-*.tgz promgate.tgz

FROM ${NODE_IMAGE} AS install
COPY --from=build /src/promgate.tgz /tmp/
RUN npm install --prefix /opt/promgate --omit=dev --no-audit --no-fund /tmp/promgate.tgz

FROM ${RUNTIME_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="promgate" \
      org.opencontainers.image.description="Multi-tenant gateway for Prometheus: authenticates callers and enforces their label matchers on every query" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
COPY --from=install /opt/promgate /opt/promgate
# distroless's nonroot user, by number so that Kubernetes' runAsNonRoot can check it. promgate writes no file: the
# root filesystem may be read-only. It handles SIGTERM itself (finishing requests in flight), so node runs as PID 1.
USER 65532:65532
EXPOSE 9092 9093
ENTRYPOINT ["/nodejs/bin/node", "/opt/promgate/node_modules/promgate/dist/cli.js"]
CMD ["run"]
