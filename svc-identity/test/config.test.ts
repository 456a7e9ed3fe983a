import { ConfigError } from "@apgms/common";
import { generateServiceKeyPair } from "@apgms/common";
import { expect } from "chai";
import { parseIdentityConfig } from "../src/config.js";

const keys = generateServiceKeyPair();
const base = { DATABASE_URL: "postgres://postgres@127.0.0.1:5432/x", LOG_LEVEL: "silent", SERVICE_TOKEN_PUBLIC_KEYS: keys.publicKeyPem };
const KEY = "k".repeat(32);

function configError(source: NodeJS.ProcessEnv): string {
  try {
    parseIdentityConfig(source);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  return expect.fail("should have thrown");
}

describe("svc-identity config: PAGE_TOKEN_SECRET", () => {
  it("is required in production, which is the default", () => {
    expect(configError(base)).to.include("PAGE_TOKEN_SECRET: required when NODE_ENV=production");
    expect(configError({ ...base, NODE_ENV: "production" })).to.include("PAGE_TOKEN_SECRET");
  });

  it("takes comma-separated keys of at least 32 bytes, the first one first", () => {
    expect(parseIdentityConfig({ ...base, PAGE_TOKEN_SECRET: `${KEY}, ${"o".repeat(40)}` }).PAGE_TOKEN_SECRET).to.deep.equal([KEY, "o".repeat(40)]);
    expect(configError({ ...base, PAGE_TOKEN_SECRET: `${KEY},short` })).to.include("at least 32 bytes");
  });

  it("outside production, without a secret, makes up a key for this process", () => {
    const a = parseIdentityConfig({ ...base, NODE_ENV: "development" }).PAGE_TOKEN_SECRET;
    const b = parseIdentityConfig({ ...base, NODE_ENV: "test" }).PAGE_TOKEN_SECRET;
    expect(a).to.have.length(1);
    expect(Buffer.byteLength(a[0]!)).to.be.at.least(32);
    expect(a).to.not.deep.equal(b);
  });
});

describe("svc-identity config: service tokens and TLS", () => {
  it("requires SERVICE_TOKEN_PUBLIC_KEYS, public keys only", () => {
    const { SERVICE_TOKEN_PUBLIC_KEYS: _omitted, ...withoutKeys } = base;
    expect(configError({ ...withoutKeys, PAGE_TOKEN_SECRET: KEY })).to.include("SERVICE_TOKEN_PUBLIC_KEYS");
    expect(configError({ ...base, PAGE_TOKEN_SECRET: KEY, SERVICE_TOKEN_PUBLIC_KEYS: keys.privateKeyPem })).to.include("SERVICE_TOKEN_PUBLIC_KEYS: one or more SPKI PEM public keys");
  });

  it("takes a certificate with its key, and client certificates only with a CA", () => {
    const ok = { ...base, PAGE_TOKEN_SECRET: KEY };
    expect(configError({ ...ok, GRPC_TLS_CERT: "server.crt" })).to.include("GRPC_TLS_KEY");
    expect(configError({ ...ok, GRPC_TLS_CERT: "server.crt", GRPC_TLS_KEY: "server.key", GRPC_TLS_CLIENT_AUTH: "true" })).to.include("GRPC_TLS_CA");
    expect(parseIdentityConfig({ ...ok, GRPC_TLS_CERT: "server.crt", GRPC_TLS_KEY: "server.key" }).GRPC_TLS_CLIENT_AUTH).to.equal(false);
  });
});
