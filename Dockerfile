# txlab in a container: Debian 12, the same install script as `make demo`, a release build.
# (No container engine runs on the build machines here, so this file is not exercised in CI.)
FROM debian:12-slim
WORKDIR /src
COPY . .
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends make \
    && bash scripts/install-deps.sh \
    && cmake --preset release && cmake --build build/release -j"$(nproc)" \
    && install -m 0755 build/release/cli/txlab /usr/local/bin/txlab \
    && rm -rf /var/lib/apt/lists/*
ENTRYPOINT ["txlab"]
CMD ["run", "/src/scenarios/broker.yaml"]
