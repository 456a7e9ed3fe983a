import { createHash, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

export interface SigningKey {
  kid: string;
  privateKeyPem: string;
  publicJwk: JsonWebKey & { kid: string; alg: "RS256"; use: "sig" };
}

/** RFC 7638 thumbprint, used as the key id. */
function thumbprint(jwk: JsonWebKey): string {
  const canonical = JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
  return createHash("sha256").update(canonical).digest("base64url");
}

export function signingKeyFromPem(privateKeyPem: string): SigningKey {
  const pub: KeyObject = createPublicKey(privateKeyPem);
  const jwk = pub.export({ format: "jwk" });
  const kid = thumbprint(jwk);
  return { kid, privateKeyPem, publicJwk: { ...jwk, kid, alg: "RS256", use: "sig" } };
}

export function generateSigningKey(): SigningKey {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return signingKeyFromPem(privateKey.export({ format: "pem", type: "pkcs8" }).toString());
}

/** Loads the development issuer's key from `dir`, generating it on first run (kept out of git under .dev/). */
export function loadOrCreateSigningKey(dir: string): SigningKey {
  const file = path.join(dir, "signing-key.pem");
  if (existsSync(file)) return signingKeyFromPem(readFileSync(file, "utf8"));
  mkdirSync(dir, { recursive: true });
  const key = generateSigningKey();
  writeFileSync(file, key.privateKeyPem, { mode: 0o600 });
  chmodSync(file, 0o600);
  return key;
}
