import { createServiceTokenMinter, type ServiceTokenMinter } from "../service-token.js";
import { generateServiceKeyPair, parseSigningKey, parseVerifyKeys } from "../service-token-keys.js";
import { createServiceTokenVerifier, type ServiceTokenVerifier } from "../service-token-verifier.js";

let pair: { privateKeyPem: string; publicKeyPem: string } | undefined;

/**
 * The service token key pair of this test run: generated once per process and
 * put in SERVICE_TOKEN_PRIVATE_KEY / SERVICE_TOKEN_PUBLIC_KEYS (unless the
 * runner set them), so services a test spawns inherit it.
 */
export function testServiceKeys(): { privateKeyPem: string; publicKeyPem: string } {
  if (!pair) {
    const fromEnv = process.env.SERVICE_TOKEN_PRIVATE_KEY && process.env.SERVICE_TOKEN_PUBLIC_KEYS;
    pair = fromEnv
      ? { privateKeyPem: process.env.SERVICE_TOKEN_PRIVATE_KEY!, publicKeyPem: process.env.SERVICE_TOKEN_PUBLIC_KEYS! }
      : generateServiceKeyPair();
    process.env.SERVICE_TOKEN_PRIVATE_KEY = pair.privateKeyPem;
    process.env.SERVICE_TOKEN_PUBLIC_KEYS = pair.publicKeyPem;
  }
  return pair;
}

/** A minter with the run's key, as the process `issuer` (e.g. "test"). */
export function testMinter(issuer = "test"): ServiceTokenMinter {
  return createServiceTokenMinter({ key: parseSigningKey(testServiceKeys().privateKeyPem), issuer });
}

/** A verifier of the run's key for the service `audience`. */
export function testVerifier(audience: string): ServiceTokenVerifier {
  return createServiceTokenVerifier({ audience, keys: parseVerifyKeys(testServiceKeys().publicKeyPem) });
}
