import type { ServiceDefinition } from "@grpc/grpc-js";

/**
 * A reply already in protobuf wire form, e.g. an answer kept in a cache as
 * bytes: the server writes the bytes as they are instead of decoding them into
 * a message only to encode it again. Every server built by createGrpcServer
 * accepts one from any unary handler (see `sendsEncoded`).
 */
export class EncodedMessage<T> {
  /** Only for the type checker: which message the bytes encode. */
  declare readonly message?: T;
  constructor(readonly bytes: Buffer) {}
}

/** What a unary handler may resolve: the message, or its bytes. */
export type Reply<T> = T | EncodedMessage<T>;

/** `definition` with every method's reply serializer passing an EncodedMessage's bytes through unchanged. */
export function sendsEncoded(definition: ServiceDefinition): ServiceDefinition {
  return Object.fromEntries(
    Object.entries(definition).map(([name, method]) => {
      const serialize = method.responseSerialize;
      return [name, { ...method, responseSerialize: (value: unknown) => (value instanceof EncodedMessage ? value.bytes : serialize(value)) }];
    }),
  );
}
