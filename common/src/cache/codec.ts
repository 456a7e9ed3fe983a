/** How a cached value becomes the string stored in Redis and back. */
export interface CacheCodec<T> {
  encode(value: T): string;
  decode(text: string): T;
}

/**
 * JSON, with the listed top-level fields revived as Date (a null stays null).
 * Revives after parsing rather than with a reviver, which would be called for
 * every node of the value.
 */
export function jsonCodec<T>(dateFields: readonly string[]): CacheCodec<T> {
  const fields = [...dateFields];
  return {
    encode: (value) => JSON.stringify(value),
    decode(text) {
      const value: unknown = JSON.parse(text);
      if (fields.length > 0 && value !== null && typeof value === "object") {
        const record = value as Record<string, unknown>;
        for (const field of fields) {
          const raw = record[field];
          if (typeof raw === "string") record[field] = new Date(raw);
        }
      }
      return value as T;
    },
  };
}
