import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { z } from "zod";

/** Asymmetric algorithms only: a service holds public keys and cannot mint what it verifies. */
export type ServiceTokenAlg = "EdDSA" | "ES256";

export interface ServiceSigningKey {
  kid: string;
  alg: ServiceTokenAlg;
  privateKey: KeyObject;
}

export interface ServiceVerifyKey {
  kid: string;
  alg: ServiceTokenAlg;
  publicKey: KeyObject;
}

function algOf(key: KeyObject): ServiceTokenAlg {
  if (key.asymmetricKeyType === "ed25519") return "EdDSA";
  if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return "ES256";
  throw new Error(`unsupported key type ${key.asymmetricKeyType ?? "unknown"}: use Ed25519 (EdDSA) or P-256 (ES256)`);
}

/** The key id: the first 16 base64url characters of the SHA-256 of the public key's SPKI encoding. */
export function serviceKeyId(publicKey: KeyObject): string {
  return createHash("sha256").update(publicKey.export({ type: "spki", format: "der" })).digest("base64url").slice(0, 16);
}

// Env files often carry PEM on one line with literal "\n".
const unescape = (text: string) => text.replace(/\\n/g, "\n");
const PEM_BLOCK = /-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----/g;

/** A PKCS#8 PEM private key (Ed25519 or P-256). */
export function parseSigningKey(pem: string): ServiceSigningKey {
  const privateKey = createPrivateKey(unescape(pem).trim());
  return { kid: serviceKeyId(createPublicKey(privateKey)), alg: algOf(privateKey), privateKey };
}

/** One or more SPKI PEM public keys, concatenated (optionally comma-separated): every one verifies. */
export function parseVerifyKeys(text: string): ServiceVerifyKey[] {
  const blocks = unescape(text).match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) throw new Error("no PEM public key found");
  return blocks.map((pem) => {
    // createPublicKey would derive a public key from a private one: a service must never hold that.
    if (pem.includes("PRIVATE KEY")) throw new Error("expected public keys only, found a private key");
    const publicKey = createPublicKey(pem);
    return { kid: serviceKeyId(publicKey), alg: algOf(publicKey), publicKey };
  });
}

/** A fresh Ed25519 pair as PEM (development keys, tests). */
export function generateServiceKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

const parsed = <T>(parse: (v: string) => T, what: string) =>
  z
    .string({ error: `required: ${what} (make dev writes a development pair under .dev/service-token/)` })
    .min(1, `required: ${what}`)
    .transform((value, ctx) => {
      try {
        return parse(value);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: `${what}: ${err instanceof Error ? err.message : String(err)}` });
        return z.NEVER;
      }
    });

/** Config fields: SERVICE_TOKEN_PRIVATE_KEY for processes that call services, SERVICE_TOKEN_PUBLIC_KEYS for services. */
export const serviceTokenEnv = {
  privateKey: () => parsed(parseSigningKey, "a PKCS#8 PEM private key (Ed25519 or P-256)"),
  publicKeys: () => parsed(parseVerifyKeys, "one or more SPKI PEM public keys (Ed25519 or P-256)"),
};
