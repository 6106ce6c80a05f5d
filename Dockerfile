# The aqe-artifacts container action (README "Container image").
#   BASE: a slim Python image. Releases build on python:3.12-slim (release.yml); `make image` can use a
#   local base made from Debian packages (tools/image/make-base.sh) on machines without a registry.
# The builder stage compiles our C accelerators into a wheel and installs the pinned runtime
# dependencies (tools/image/requirements.txt) from wheels into /opt/aqe, then trims what the action
# never loads: botocore's data of every service but S3/STS/SSO and its CA bundle (certifi's is used),
# lxml's objectify/html and Cython includes, zstandard's cffi twin, the .pyc twins of compiled
# modules, debug symbols, headers; third-party packages ship as bytecode only (unchecked-hash .pyc,
# no sources; our own package keeps its sources), compiled without column tables (-X
# no_debug_ranges: smaller, tracebacks keep file and line). The slim bases ship no standard-library
# bytecode, and a container compiles anew each step: the builder compiles the stdlib modules the
# action imports (tools/image/stdlib-modules.txt) into a tree the final stage lays over the base.
# The final stage is the base plus /opt/aqe, that bytecode and the git binary (for merge-base
# baselines): no compiler, no pip, no apt lists.
# The runner mounts the workspace and sets the working directory, and runs the container as root, so
# there is no WORKDIR or USER here (GitHub's Dockerfile support for actions).
ARG BASE=python:3.12-slim

FROM ${BASE} AS builder
# A compiler and the Python headers for the accelerators, pip/venv where the base lacks them, and git
# (only its main binary is kept). Versions are the base image's Debian release's.
# hadolint ignore=DL3008,SC2086
RUN set -eu; packages="gcc libc6-dev git"; \
    python3 -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(sysconfig.get_paths()["include"] + "/Python.h"))' \
      || packages="$packages python3-dev"; \
    python3 -c 'import ensurepip' 2>/dev/null || packages="$packages python3-venv"; \
    apt-get update; \
    apt-get install -y --no-install-recommends $packages; \
    rm -rf /var/lib/apt/lists/*

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_NO_INPUT=1 SOURCE_DATE_EPOCH=0
COPY tools/image/requirements.txt /src/tools/image/requirements.txt
# The CA bundle secret is for networks that intercept TLS (make image passes the host's); absent, pip
# uses certifi's.
RUN --mount=type=secret,id=ca,required=false \
    set -eu; if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \
 && python3 -m venv /opt/aqe \
 && /opt/aqe/bin/pip install --no-deps --only-binary=:all: -r /src/tools/image/requirements.txt

COPY pyproject.toml setup.py README.md /src/
COPY aqe_ci /src/aqe_ci
RUN --mount=type=secret,id=ca,required=false \
    set -eu; if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \
 && /opt/aqe/bin/pip wheel --no-deps --wheel-dir /wheels /src \
 && /opt/aqe/bin/pip install --no-deps /wheels/aqe_artifacts-*.whl \
 && /opt/aqe/bin/python -c "from aqe_ci import accel; built = accel.status(); assert all(built.values()), built" \
 && { /opt/aqe/bin/pip uninstall -y -q pip setuptools wheel 2>/dev/null || true; } \
 && site=$(/opt/aqe/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') \
 && find "$site/botocore/data" -mindepth 1 -maxdepth 1 -type d ! -name s3 ! -name sts ! -name sso ! -name sso-oidc \
      -exec rm -rf {} + \
 && find "$site/boto3/data" -mindepth 1 -maxdepth 1 -type d ! -name s3 -exec rm -rf {} + \
 && rm -rf "$site/lxml/includes" "$site/lxml/html" "$site/lxml/isoschematron" "$site"/lxml/objectify.* \
      "$site"/lxml/*.pxi "$site"/zstandard/_cffi.* "$site/zstandard/backend_cffi.py" "$site/botocore/cacert.pem" \
 && find /opt/aqe \( -name '*.pyx' -o -name '*.pxd' -o -name '*.pyi' -o -name '*.h' -o -name '*.c' \) -delete \
 && find /opt/aqe -name '*.so' -exec strip --strip-unneeded {} + \
 && find /opt/aqe -name __pycache__ -type d -prune -exec rm -rf {} + \
 && /opt/aqe/bin/python -X no_debug_ranges -m compileall -q -b -j 0 --invalidation-mode unchecked-hash "$site" \
 && find "$site" -path "$site/aqe_ci" -prune -o -name '*.py' -type f -exec rm -f {} + \
 && find "$site" -name '*.so' -exec sh -c 'for so; do b=${so##*/}; rm -f "${so%/*}/${b%%.*}.pyc"; done' sh {} + \
 && find "$site/aqe_ci" -name '*.pyc' -delete \
 && /opt/aqe/bin/python -X no_debug_ranges -m compileall -q -j 0 --invalidation-mode unchecked-hash "$site/aqe_ci" \
 && /opt/aqe/bin/python -c "import aqe_ci.cli.app, github, boto3, botocore.client, gitlab, lxml.etree, zstandard, ijson, nacl.public, charset_normalizer" \
 && install -D -m 0755 "$(command -v git)" /opt/git/git

COPY tools/image/stdlib_bytecode.py tools/image/stdlib-modules.txt /src/tools/image/
RUN /opt/aqe/bin/python -X no_debug_ranges /src/tools/image/stdlib_bytecode.py /src/tools/image/stdlib-modules.txt \
      /opt/stdlib-bytecode

FROM ${BASE}
COPY --from=builder /opt/aqe /opt/aqe
COPY --from=builder /opt/git/git /usr/local/bin/git
COPY --from=builder /opt/stdlib-bytecode/ /
COPY entrypoint.py /opt/aqe/entrypoint.py
# safe.directory: the workspace belongs to the runner's user, the container runs as root
ENV PATH=/opt/aqe/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0=*
ENTRYPOINT ["/opt/aqe/bin/python", "/opt/aqe/entrypoint.py"]
