# APGMS developer workflow. `make help` lists the targets.
# Everything runs without standard input (CI runs `bash .ci/run` with CI=true).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# ---- settings (override from the environment or the command line) ----------
# svc-identity and the seed connect as its row-level-security role (no BYPASSRLS,
# owns nothing); migrations run as the tables' owner.
DATABASE_URL ?= postgres://apgms_identity_app@127.0.0.1:5432/apgms_dev
MIGRATION_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/apgms_dev
# svc-billing connects as its own row-level-security role, to the same database.
BILLING_DATABASE_URL ?= postgres://apgms_billing_app@127.0.0.1:5432/apgms_dev
# svc-insights connects as its own row-level-security role, to the same database.
INSIGHTS_DATABASE_URL ?= postgres://apgms_insights_app@127.0.0.1:5432/apgms_dev
REDIS_URL ?= redis://127.0.0.1:6379
NATS_URL ?= nats://127.0.0.1:4222
export DATABASE_URL MIGRATION_DATABASE_URL BILLING_DATABASE_URL INSIGHTS_DATABASE_URL REDIS_URL NATS_URL

# Local dev processes (scripts/dev.mjs and `make token` read these).
DEV_OIDC_PORT ?= 4001
GRPC_PORT ?= 50051
BILLING_GRPC_PORT ?= 50052
INSIGHTS_GRPC_PORT ?= 50053
HTTP_PORT ?= 4000
DEV_OIDC_KEY_DIR ?= .dev/oidc
OIDC_AUDIENCE ?= apgms
# The dev issuer's URL: seed records it on the demo users, the BFF trusts it.
DEV_OIDC_ISSUER ?= http://127.0.0.1:$(DEV_OIDC_PORT)

# `make token USER=...`; the login's $USER from the environment is ignored.
TOKEN_USER := $(if $(filter command line,$(origin USER)),$(USER),owner@demo.apgms.dev)

# Nothing may prompt or phone home.
export GIT_TERMINAL_PROMPT := 0
export npm_config_fund := false
export npm_config_audit := false
export npm_config_update_notifier := false

NPX := npx --no --
WORKSPACES := proto common svc-identity svc-billing svc-insights worker bff
STAMPS := node_modules/.cache/apgms
# npm's own record of what it installed: newer than the lock = up to date.
INSTALL_STAMP := node_modules/.package-lock.json
PROTO_STAMP := $(STAMPS)/proto-gen.stamp
PRISMA_STAMP := $(STAMPS)/prisma-gen.stamp

PKG_JSONS := package.json $(wildcard $(addsuffix /package.json,$(WORKSPACES)))
LOCKFILE := $(wildcard package-lock.json)
INSTALL_DEPS := $(if $(LOCKFILE),$(LOCKFILE),$(PKG_JSONS))
PROTO_SRCS := $(shell find proto -name '*.proto' -not -path '*/node_modules/*' -not -path 'proto/gen/*' 2>/dev/null)
PRISMA_SRCS := $(wildcard $(foreach s,svc-identity svc-billing svc-insights worker,$(s)/prisma/*.prisma $(s)/prisma.config.ts $(s)/package.json))

.PHONY: help preflight install gen build lint migrate seed seed-insights dev services chromium test test-node bench token clean distclean

help:
	@echo "make install   npm ci (npm install without a lock); skipped when node_modules matches the lock"
	@echo "make gen       buf generate + buf build -o proto/image.binpb + prisma generate (always)"
	@echo "make build     gen (when sources changed) + tsc -b"
	@echo "make lint      buf lint, buf breaking against the landed main, tsc -b"
	@echo "make services  start PostgreSQL, Redis, NATS JetStream if they do not answer"
	@echo "make migrate   create the database if missing, apply svc-identity, svc-billing and svc-insights migrations (as MIGRATION_DATABASE_URL)"
	@echo "make seed      seed the demo tenant and users"
	@echo "make seed-insights DEV_SEED_EVENTS=1000000   load the demo tenant's insights events (make dev does it after its banner)"
	@echo "make dev       all of the above, then run oidc + identity + billing + insights + bff (Ctrl-C stops)"
	@echo "make test      install, build, run the whole mocha suite"
	@echo "make test-node NODE_MAJOR=22   the suite under another Node major (node@22 from npm, once)"
	@echo "make bench     node scripts/bench.mjs"
	@echo "make token USER=owner@demo.apgms.dev   print a dev access token (use make -s)"
	@echo "make clean     remove build output; make distclean also node_modules and .dev"
	@echo "Settings: DATABASE_URL=$(DATABASE_URL) MIGRATION_DATABASE_URL=$(MIGRATION_DATABASE_URL) REDIS_URL=$(REDIS_URL) NATS_URL=$(NATS_URL)"

# Cheap pre-flight: toolchain versions only; no network, no git fetch, no prompts.
# Warns on Node older than 22.15 (APGMS is built for 24 LTS and 22), fails below 20.19.
preflight:
	@node scripts/check-node.mjs
	@command -v npm >/dev/null || { echo "[preflight] npm not found" >&2; exit 1; }

# ---- install ----------------------------------------------------------------
install: $(INSTALL_STAMP)

$(INSTALL_STAMP): $(INSTALL_DEPS) | preflight
	@if [ -f package-lock.json ]; then echo "npm ci"; npm ci || { echo "npm ci failed: if package.json changed, run npm install and commit package-lock.json" >&2; exit 1; }; \
	  else echo "npm install"; npm install; fi
	@touch $@

# ---- code generation ----------------------------------------------------------
define proto_gen
$(NPX) buf generate
$(NPX) buf build -o proto/image.binpb
@mkdir -p $(STAMPS) && touch $(PROTO_STAMP)
endef
define prisma_gen
npm run prisma:generate -w @apgms/svc-identity
npm run prisma:generate -w @apgms/svc-billing
npm run prisma:generate -w @apgms/svc-insights
npm run prisma:generate -w @apgms/worker
@mkdir -p $(STAMPS) && touch $(PRISMA_STAMP)
endef

$(PROTO_STAMP): $(INSTALL_STAMP) buf.yaml buf.gen.yaml $(PROTO_SRCS)
	$(proto_gen)

$(PRISMA_STAMP): $(INSTALL_STAMP) $(PRISMA_SRCS)
	$(prisma_gen)

# `make gen` always regenerates; build regenerates only what is out of date.
gen: $(INSTALL_STAMP)
	$(proto_gen)
	$(prisma_gen)

# ---- build, lint ----------------------------------------------------------------
build: $(PROTO_STAMP) $(PRISMA_STAMP)
	$(NPX) tsc -b

lint: $(PROTO_STAMP) $(PRISMA_STAMP)
	$(NPX) buf lint
	bash scripts/buf-breaking.sh
	$(NPX) tsc -b

# ---- local services, database ---------------------------------------------------
services:
	@if [ -n "$${SKIP_SERVICES:-}" ]; then echo "services: skipped (SKIP_SERVICES set)"; else bash scripts/ensure-services.sh; fi

migrate: services build
	DATABASE_URL='$(MIGRATION_DATABASE_URL)' node scripts/ensure-db.mjs
	DATABASE_URL='$(MIGRATION_DATABASE_URL)' npm run migrate:deploy -w @apgms/svc-identity
	DATABASE_URL='$(MIGRATION_DATABASE_URL)' npm run migrate:deploy -w @apgms/svc-billing
	DATABASE_URL='$(MIGRATION_DATABASE_URL)' npm run migrate:deploy -w @apgms/svc-insights

seed: migrate
	@mkdir -p .dev
	DEV_OIDC_ISSUER='$(DEV_OIDC_ISSUER)' node svc-identity/dist/src/seed.js
	DATABASE_URL='$(BILLING_DATABASE_URL)' node svc-billing/dist/src/seed.js

# The demo tenant's insights events (1,000,000 by default: about half a minute); `make dev` loads them after its banner.
DEV_SEED_EVENTS ?= 1000000
seed-insights: seed
	DATABASE_URL='$(INSIGHTS_DATABASE_URL)' BILLING_DATABASE_URL='$(BILLING_DATABASE_URL)' node svc-insights/dist/src/seed.js --events $(DEV_SEED_EVENTS)

# ---- run ------------------------------------------------------------------------
dev: preflight seed
	@DEV_OIDC_PORT='$(DEV_OIDC_PORT)' GRPC_PORT='$(GRPC_PORT)' BILLING_GRPC_PORT='$(BILLING_GRPC_PORT)' INSIGHTS_GRPC_PORT='$(INSIGHTS_GRPC_PORT)' HTTP_PORT='$(HTTP_PORT)' \
	  DEV_OIDC_ISSUER='$(DEV_OIDC_ISSUER)' DEV_OIDC_KEY_DIR='$(DEV_OIDC_KEY_DIR)' OIDC_AUDIENCE='$(OIDC_AUDIENCE)' \
	  node scripts/dev.mjs

# Headless Chromium for the GraphiQL browser test (apt-installed when missing).
chromium:
	bash scripts/ensure-chromium.sh

test: preflight build services chromium
	bash scripts/run-tests.sh

# The suite under another Node major, e.g. make test-node NODE_MAJOR=24 (downloads node@<major> from npm once).
NODE_MAJOR ?= 22
test-node: build services chromium
	bash scripts/test-on-node.sh $(NODE_MAJOR)

bench: build
	node scripts/bench.mjs

# Only the token goes to stdout: TOKEN="$$(make -s token USER=owner@demo.apgms.dev)".
# Needs a built bff and the issuer's keys in DEV_OIDC_KEY_DIR (make dev).
token:
	@test -f bff/dist/src/dev-oidc/mint.js || { echo "token: bff/dist/src/dev-oidc/mint.js missing; run make build" >&2; exit 1; }
	@DEV_OIDC_PORT='$(DEV_OIDC_PORT)' DEV_OIDC_KEY_DIR='$(DEV_OIDC_KEY_DIR)' \
	  DEV_OIDC_ISSUER='$(DEV_OIDC_ISSUER)' OIDC_AUDIENCE='$(OIDC_AUDIENCE)' \
	  node bff/dist/src/dev-oidc/mint.js --user '$(TOKEN_USER)'

# ---- cleanup ----------------------------------------------------------------------
clean:
	rm -rf proto/gen proto/dist proto/image.binpb common/dist svc-identity/dist svc-billing/dist svc-insights/dist worker/dist bff/dist \
	  svc-identity/src/generated svc-billing/src/generated svc-insights/src/generated worker/src/generated $(STAMPS)
	find . -name '*.tsbuildinfo' -not -path './node_modules/*' -delete

distclean: clean
	rm -rf node_modules $(addsuffix /node_modules,$(WORKSPACES)) .dev
