import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { SigningKey } from "./keys.js";
import { mintToken } from "./tokens.js";

export interface DevIssuerOptions {
  /** Public URL of the issuer (the `iss` claim), e.g. http://127.0.0.1:4001. */
  issuerUrl: string;
  audience: string;
  keys: SigningKey[];
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 16_384) throw new Error("body too large");
    chunks.push(chunk as Buffer);
  }
  const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
  return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
}

/**
 * A development OIDC issuer: discovery document, JWKS, and a token endpoint
 * that signs a token for any subject (development only; never deployed). The
 * edge validates its tokens exactly as it validates Okta's.
 */
export function createDevIssuer(options: DevIssuerOptions): Server {
  const { issuerUrl, audience, keys } = options;
  const discovery = {
    issuer: issuerUrl,
    jwks_uri: `${issuerUrl}/.well-known/jwks.json`,
    token_endpoint: `${issuerUrl}/token`,
    response_types_supported: ["token"],
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: ["RS256"],
  };
  const jwks = { keys: keys.map((k) => k.publicJwk) };

  return createServer((req, res) => {
    const url = new URL(req.url ?? "/", issuerUrl);
    if (req.method === "GET" && url.pathname === "/.well-known/openid-configuration") return json(res, 200, discovery);
    if (req.method === "GET" && url.pathname === "/.well-known/jwks.json") return json(res, 200, jwks);
    if (req.method === "POST" && url.pathname === "/token") {
      readJson(req).then(
        (body) => {
          const subject = typeof body.subject === "string" ? body.subject : typeof body.email === "string" ? body.email : "";
          if (!subject) return json(res, 400, { error: "invalid_request", error_description: "subject or email required" });
          const ttl = typeof body.ttl_seconds === "number" ? body.ttl_seconds : 3600;
          const token = mintToken(keys[0]!, { issuer: issuerUrl, audience, subject, email: subject.includes("@") ? subject : undefined, ttlSeconds: ttl });
          json(res, 200, { access_token: token, token_type: "Bearer", expires_in: ttl });
        },
        () => json(res, 400, { error: "invalid_request" }),
      );
      return;
    }
    json(res, 404, { error: "not_found" });
  });
}
