import { loadPackageDefinition, type ChannelCredentials, type Client, type ServiceError } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { protoPath } from "grpc-health-check";
import { grpcChannelCredentials, type GrpcTlsConfig } from "./tls.js";

interface HealthCheckResponse {
  status: "UNKNOWN" | "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN";
}
interface HealthClient extends Client {
  check(req: { service: string }, opts: { deadline: number }, cb: (err: ServiceError | null, res: HealthCheckResponse) => void): void;
}
type HealthCtor = new (address: string, creds: ChannelCredentials, options?: object) => HealthClient;

let ctor: HealthCtor | undefined;
function healthCtor(): HealthCtor {
  if (!ctor) {
    const def = loadSync(protoPath, { keepCase: true, enums: String, defaults: true });
    const grpcPkg = loadPackageDefinition(def) as unknown as { grpc: { health: { v1: { Health: HealthCtor } } } };
    ctor = grpcPkg.grpc.health.v1.Health;
  }
  return ctor;
}

/** A `grpc.health.v1` client, as grpc_health_probe and Kubernetes probes use (health needs no service token; TLS as configured). */
export function createHealthClient(address: string, tls?: GrpcTlsConfig) {
  const client = new (healthCtor())(address, grpcChannelCredentials(tls), {
    "grpc.initial_reconnect_backoff_ms": 200,
    "grpc.max_reconnect_backoff_ms": 3_000,
  });
  return {
    /** Resolves the serving status of `service` ("" for the whole server); rejects on transport errors. */
    check(service = "", timeoutMs = 1_000): Promise<HealthCheckResponse["status"]> {
      return new Promise((resolve, reject) => {
        client.check({ service }, { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res.status)));
      });
    },
    close: () => client.close(),
  };
}
