import { readFileSync } from "node:fs";
import { ChannelCredentials, credentials, ServerCredentials } from "@grpc/grpc-js";
import { z } from "zod";
import { env } from "../config.js";

/** TLS between processes: PEM file paths. Nothing set means plaintext (loopback, development). */
export interface GrpcTlsConfig {
  /** CA that signed the peers' certificates: a client verifies the server with it, a server verifies client certificates with it. */
  GRPC_TLS_CA?: string;
  /** This process's certificate chain and key (a server's, or a client's for mTLS). */
  GRPC_TLS_CERT?: string;
  GRPC_TLS_KEY?: string;
  /** Server side: refuse clients without a certificate signed by GRPC_TLS_CA (mTLS). */
  GRPC_TLS_CLIENT_AUTH: boolean;
}

/** Config fields for the schema of any process that serves or calls gRPC. */
export const grpcTlsEnv = {
  GRPC_TLS_CA: z.string().min(1).optional(),
  GRPC_TLS_CERT: z.string().min(1).optional(),
  GRPC_TLS_KEY: z.string().min(1).optional(),
  GRPC_TLS_CLIENT_AUTH: env.bool(false),
};

/** Cross-field rules of grpcTlsEnv, for a schema's superRefine. */
export function grpcTlsIssues(c: GrpcTlsConfig): Array<{ path: string; message: string }> {
  const issues: Array<{ path: string; message: string }> = [];
  if (Boolean(c.GRPC_TLS_CERT) !== Boolean(c.GRPC_TLS_KEY)) issues.push({ path: c.GRPC_TLS_CERT ? "GRPC_TLS_KEY" : "GRPC_TLS_CERT", message: "GRPC_TLS_CERT and GRPC_TLS_KEY go together" });
  if (c.GRPC_TLS_CLIENT_AUTH && !c.GRPC_TLS_CA) issues.push({ path: "GRPC_TLS_CA", message: "required when GRPC_TLS_CLIENT_AUTH=true (the CA client certificates must chain to)" });
  return issues;
}

const read = (file: string | undefined) => (file ? readFileSync(file) : null);

/** Server credentials: TLS when a certificate is configured, client certificates required with GRPC_TLS_CLIENT_AUTH. */
export function grpcServerCredentials(tls?: GrpcTlsConfig): ServerCredentials {
  if (!tls?.GRPC_TLS_CERT || !tls.GRPC_TLS_KEY) return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(
    tls.GRPC_TLS_CLIENT_AUTH ? read(tls.GRPC_TLS_CA) : null,
    [{ cert_chain: readFileSync(tls.GRPC_TLS_CERT), private_key: readFileSync(tls.GRPC_TLS_KEY) }],
    tls.GRPC_TLS_CLIENT_AUTH,
  );
}

/** Channel credentials: TLS verified against GRPC_TLS_CA when it is set, presenting GRPC_TLS_CERT/KEY when those are. */
export function grpcChannelCredentials(tls?: GrpcTlsConfig): ChannelCredentials {
  if (!tls?.GRPC_TLS_CA) return credentials.createInsecure();
  return credentials.createSsl(read(tls.GRPC_TLS_CA), read(tls.GRPC_TLS_KEY), read(tls.GRPC_TLS_CERT));
}
