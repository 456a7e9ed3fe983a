import { generateKeyPairSync } from "node:crypto";
import { expect } from "chai";
import { UnauthenticatedError } from "../src/errors.js";
import { createServiceTokenMinter } from "../src/service-token.js";
import { generateServiceKeyPair, parseSigningKey, parseVerifyKeys } from "../src/service-token-keys.js";
import { createServiceTokenVerifier } from "../src/service-token-verifier.js";

describe("service tokens", () => {
  const pair = generateServiceKeyPair();
  const key = parseSigningKey(pair.privateKeyPem);
  const keys = parseVerifyKeys(pair.publicKeyPem);
  const user = { kind: "user" as const, id: "u1" };

  it("a cached verification ends with the token's own expiry", async function () {
    this.timeout(10_000);
    const token = await createServiceTokenMinter({ key, issuer: "test", ttlSeconds: 1, renewBeforeSeconds: 0 }).mint("svc", "t1", user);
    const verifier = createServiceTokenVerifier({ audience: "svc", keys, clockToleranceSeconds: 0 });
    expect(verifier.verified?.(token)).to.equal(undefined); // known only once verify() accepted it
    expect(await verifier.verify(token)).to.deep.equal({ issuer: "test", tenantId: "t1", principal: user });
    expect(verifier.verified?.(token)).to.deep.equal({ issuer: "test", tenantId: "t1", principal: user });
    expect(verifier.verified?.(undefined)).to.equal(undefined);
    await new Promise((r) => setTimeout(r, 2_100));
    expect(verifier.verified?.(token)).to.equal(undefined);
    const err = await verifier.verify(token).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(UnauthenticatedError);
    expect((err as Error).message).to.equal("service credential expired");
  });

  it("renews a cached token once it is close to expiry", async function () {
    this.timeout(10_000);
    const minter = createServiceTokenMinter({ key, issuer: "test", ttlSeconds: 2, renewBeforeSeconds: 1 });
    const first = await minter.mint("svc", "t1", user);
    expect(await minter.mint("svc", "t1", user)).to.equal(first);
    await new Promise((r) => setTimeout(r, 1_100));
    expect(await minter.mint("svc", "t1", user)).to.not.equal(first);
  });

  it("signs and verifies with ES256 (P-256) too, and refuses other key types", async () => {
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const ecKey = parseSigningKey(ec.privateKey.export({ type: "pkcs8", format: "pem" }).toString());
    expect(ecKey.alg).to.equal("ES256");
    const token = await createServiceTokenMinter({ key: ecKey, issuer: "test" }).mint("svc", undefined, user);
    const verifier = createServiceTokenVerifier({ audience: "svc", keys: [...keys, ...parseVerifyKeys(ec.publicKey.export({ type: "spki", format: "pem" }).toString())] });
    expect(await verifier.verify(token)).to.deep.equal({ issuer: "test", principal: user });
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
    expect(() => parseSigningKey(rsa.privateKey.export({ type: "pkcs8", format: "pem" }).toString())).to.throw("unsupported key type rsa");
  });

  it("takes one or more PEM public keys, with literal \\n escapes, and refuses a private key as a public one", () => {
    const other = generateServiceKeyPair();
    expect(parseVerifyKeys(`${pair.publicKeyPem},${other.publicKeyPem}`)).to.have.length(2);
    expect(parseVerifyKeys(pair.publicKeyPem.replace(/\n/g, "\\n"))[0]!.kid).to.equal(key.kid);
    expect(() => parseVerifyKeys(pair.privateKeyPem)).to.throw();
    expect(() => parseVerifyKeys("nothing")).to.throw("no PEM public key found");
  });
});
