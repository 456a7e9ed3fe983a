import { readFileSync } from "node:fs";
import { Server, type ServiceDefinition, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { loadFileDescriptorSetFromBuffer } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation } from "grpc-health-check";
import type { Logger } from "../logger.js";
import type { ServiceTokenVerifier } from "../service-token-verifier.js";
import { authenticateService } from "./authenticate.js";
import { sendsEncoded } from "./encoded.js";
import { grpcServerCredentials, type GrpcTlsConfig } from "./tls.js";

export interface ServiceRegistration {
  /** Fully qualified name, e.g. "apgms.identity.v1.UserService". */
  name: string;
  definition: ServiceDefinition;
  implementation: UntypedServiceImplementation;
}

export interface GrpcServerOptions {
  logger: Logger;
  services: ServiceRegistration[];
  /** Every call of every service must carry a token this verifier accepts (health and reflection excepted). */
  serviceTokens: ServiceTokenVerifier;
  /** TLS (and mTLS) of the listening socket; plaintext when no certificate is set. */
  tls?: GrpcTlsConfig;
  /** Descriptor set (from `buf build`) served through server reflection. */
  descriptorSetPath?: string;
  /** How long in-flight calls get to finish on shutdown before they are cut. */
  drainTimeoutMs?: number;
  /** Closed after the server has drained (database pools, Redis...). */
  onShutdown?: Array<() => Promise<void>>;
}

export interface GrpcServerHandle {
  server: Server;
  health: HealthImplementation;
  /** Binds and starts; resolves the bound port (pass 0 for a free one). */
  listen(host: string, port: number): Promise<number>;
  /** Stops accepting calls, drains in-flight ones, then runs onShutdown hooks. */
  shutdown(): Promise<void>;
}

export function createGrpcServer(options: GrpcServerOptions): GrpcServerHandle {
  const { logger, services, serviceTokens, tls, descriptorSetPath, drainTimeoutMs = 10_000, onShutdown = [] } = options;
  const server = new Server({ "grpc.max_receive_message_length": 8 * 1024 * 1024 });
  const health = new HealthImplementation({ "": "NOT_SERVING" });

  for (const s of services) {
    server.addService(sendsEncoded(s.definition), authenticateService(s.definition, s.implementation, serviceTokens, logger));
    health.setStatus(s.name, "NOT_SERVING");
  }
  health.addToServer(server);
  if (descriptorSetPath) {
    const pkg = loadFileDescriptorSetFromBuffer(readFileSync(descriptorSetPath));
    new ReflectionService(pkg).addToServer(server);
  }

  const setAll = (state: "SERVING" | "NOT_SERVING") => {
    health.setStatus("", state);
    for (const s of services) health.setStatus(s.name, state);
  };

  let shuttingDown: Promise<void> | undefined;
  return {
    server,
    health,
    listen(host, port) {
      return new Promise((resolve, reject) => {
        server.bindAsync(`${host}:${port}`, grpcServerCredentials(tls), (err, bound) => {
          if (err) return reject(err);
          setAll("SERVING");
          logger.info({ port: bound, tls: Boolean(tls?.GRPC_TLS_CERT), clientCertificates: Boolean(tls?.GRPC_TLS_CERT && tls.GRPC_TLS_CLIENT_AUTH) }, "gRPC server listening");
          resolve(bound);
        });
      });
    },
    shutdown() {
      shuttingDown ??= (async () => {
        setAll("NOT_SERVING");
        logger.info("draining gRPC server");
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            logger.warn({ drainTimeoutMs }, "drain timed out; cutting remaining calls");
            server.forceShutdown();
            resolve();
          }, drainTimeoutMs);
          server.tryShutdown(() => {
            clearTimeout(timer);
            resolve();
          });
        });
        for (const hook of onShutdown) {
          try {
            await hook();
          } catch (err) {
            logger.error({ err }, "shutdown hook failed");
          }
        }
        logger.info("gRPC server stopped");
      })();
      return shuttingDown;
    },
  };
}
