import { env, loadConfig } from "@apgms/common/config";
import { z } from "zod";

export const configSchema = z.object({
  NODE_ENV: env.nodeEnv(),
  LOG_LEVEL: env.logLevel(),
  HTTP_HOST: z.string().default("127.0.0.1"),
  HTTP_PORT: env.port(4000),
  IDENTITY_GRPC_ADDRESS: z.string().min(1).default("127.0.0.1:50051"),
  GRPC_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
  REDIS_URL: z.string().url().default("redis://127.0.0.1:6379"),
  REDIS_KEY_PREFIX: z.string().default("apgms:"),
  /** The OIDC issuer whose tokens are accepted (`iss`), e.g. https://acme.okta.com/oauth2/default. */
  OIDC_ISSUER: z.string().url(),
  OIDC_AUDIENCE: z.string().min(1).default("apgms"),
  /** Defaults to the jwks_uri of the issuer's discovery document. */
  OIDC_JWKS_URI: z.string().url().optional(),
  OIDC_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
  /**
   * Comma-separated issuer URLs whose subjects a provisioning key (scope
   * identity:provision) may link users to; default: OIDC_ISSUER only.
   */
  PROVISIONING_ISSUERS: z
    .string()
    .optional()
    .transform((v) => (v ? v.split(",").map((x) => x.trim()).filter(Boolean) : undefined))
    .pipe(z.array(z.string().url()).optional()),
  /** How long a resolved principal, session state or API key is trusted before it is checked again. */
  /**
   * Let a signed-in identity that is linked to no user create its own tenant
   * (GraphQL `signUp`, becoming its owner). Off unless asked for.
   */
  SIGNUP_ENABLED: env.bool(false),
  /** Take the client address from X-Forwarded-For; only behind a proxy you trust. */
  TRUST_PROXY: env.bool(false),
  AUTH_CACHE_SECONDS: z.coerce.number().int().min(0).max(60).default(5),
  /** Development only: emails GraphiQL offers as "sign in as" (comma-separated; `make dev` passes the seeded users). */
  DEV_SIGN_IN_USERS: z
    .string()
    .default("")
    .transform((v) => v.split(",").map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(z.email())),
  /** Development only: the issuer whose `POST /token` mints those sign-ins (default OIDC_ISSUER). */
  DEV_OIDC_ISSUER: z.string().url().optional(),
});

export type Config = z.infer<typeof configSchema>;

export const readConfig = (source: NodeJS.ProcessEnv = process.env): Config => loadConfig(configSchema, source);
