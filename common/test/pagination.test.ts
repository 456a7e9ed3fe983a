import { expect } from "chai";
import { canonicalJson, PageTokenCodec, type PageQuery } from "../src/pagination.js";

const KEY_A = "a".repeat(32);
const KEY_B = "b".repeat(32);
const users: PageQuery = { list: "apgms.identity.v1/ListUsers", tenantId: "t-1", filters: { accountId: "acc-1" } };
const position = ["2026-01-01T00:00:00.000Z", "0b7c1d2e-0000-4000-8000-000000000001"];

/** The token with the character at `index` replaced by another base64url character. */
function flip(token: string, index: number): string {
  const c = token[index] === "A" ? "B" : "A";
  return token.slice(0, index) + c + token.slice(index + 1);
}

describe("page tokens", () => {
  const codec = new PageTokenCodec([KEY_A]);

  it("opens a token it sealed, for the same query, to the same position", () => {
    expect(codec.open(codec.seal(position, users), users)).to.deep.equal(position);
  });

  it("binds filters whatever their key order, and ignores undefined ones", () => {
    const token = codec.seal(position, { ...users, filters: { accountId: "acc-1", b: true, c: undefined } });
    expect(codec.open(token, { ...users, filters: { b: true, accountId: "acc-1" } })).to.deep.equal(position);
  });

  it("refuses a token from another list, tenant or filter", () => {
    const token = codec.seal(position, users);
    expect(codec.open(token, { ...users, list: "apgms.identity.v1/ListAccounts" })).to.equal(undefined);
    expect(codec.open(token, { ...users, tenantId: "t-2" })).to.equal(undefined);
    expect(codec.open(token, { ...users, filters: { accountId: "acc-2" } })).to.equal(undefined);
    expect(codec.open(token, { ...users, filters: {} })).to.equal(undefined);
  });

  it("refuses a hand-made token: plain base64 JSON, or a position with a made-up signature", () => {
    const plain = Buffer.from(JSON.stringify({ createdAt: position[0], id: position[1] })).toString("base64url");
    expect(codec.open(plain, users)).to.equal(undefined);
    const body = Buffer.from(JSON.stringify(position)).toString("base64url");
    expect(codec.open(`${body}.${Buffer.alloc(32).toString("base64url")}`, users)).to.equal(undefined);
    expect(codec.open("", users)).to.equal(undefined);
    expect(codec.open("a.b.c", users)).to.equal(undefined);
    expect(codec.open(`${body}.${"x".repeat(2000)}`, users)).to.equal(undefined);
  });

  it("refuses a token with any one character changed", () => {
    const token = codec.seal(position, users);
    for (let i = 0; i < token.length; i++) {
      if (token[i] === ".") continue;
      expect(codec.open(flip(token, i), users), `changed at ${i}`).to.equal(undefined);
    }
  });

  it("refuses a token signed with another key", () => {
    const other = new PageTokenCodec([KEY_B]);
    expect(codec.open(other.seal(position, users), users)).to.equal(undefined);
  });

  it("rotates: the first key signs, every key verifies", () => {
    const old = new PageTokenCodec([KEY_A]);
    const rotated = new PageTokenCodec([KEY_B, KEY_A]);
    expect(rotated.open(old.seal(position, users), users)).to.deep.equal(position);
    const fresh = rotated.seal(position, users);
    expect(new PageTokenCodec([KEY_B]).open(fresh, users)).to.deep.equal(position);
    expect(old.open(fresh, users)).to.equal(undefined);
  });

  it("refuses keys shorter than 32 bytes, and no key at all", () => {
    expect(() => new PageTokenCodec(["short"])).to.throw(/at least 32 bytes/);
    expect(() => new PageTokenCodec([])).to.throw(/at least one key/);
  });

  it("canonical JSON sorts keys at every depth and writes dates and bigints as strings", () => {
    expect(canonicalJson({ b: 1, a: { d: [2n, new Date(0)], c: null } })).to.equal('{"a":{"c":null,"d":["2","1970-01-01T00:00:00.000Z"]},"b":1}');
  });
});
