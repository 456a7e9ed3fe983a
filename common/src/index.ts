export * from "./config.js";
export * from "./context.js";
export * from "./errors.js";
export * from "./logger.js";
export * from "./shutdown.js";
export * from "./grpc/client.js";
export * from "./grpc/handler.js";
export * from "./grpc/server.js";
