import { NotFoundError, toServiceError } from "@apgms/common/errors";

/** The most ids one BatchGet… call carries (the services take up to 500). */
export const BATCH_SIZE = 500;

/** What the service would have answered for this id alone (NOT_FOUND), as the gRPC error the edge maps. */
export function notFound(kind: string, id: string): Error {
  const status = toServiceError(new NotFoundError(kind, id));
  return Object.assign(new Error(`${status.code} ${status.details}`), status);
}

/**
 * A DataLoader batch function over a Get (one key) and a BatchGet (several):
 * a lone id costs the same call as before, a list's related objects one call
 * in all. Ids the batch left out fail alone, with the NOT_FOUND the Get would
 * have given; an error of the whole call fails every key. `keyOf` names the
 * key a batch item answers (default its `id`).
 */
export function byId<V>(
  get: (id: string) => Promise<V>,
  batchGet: (ids: string[]) => Promise<V[]>,
  missing: (id: string) => Error,
  keyOf: (v: V) => string = (v) => (v as { id: string }).id,
) {
  return async (ids: readonly string[]): Promise<Array<V | Error>> => {
    if (ids.length === 1) return [await get(ids[0]!).catch((err: Error) => err)];
    const found = new Map((await batchGet([...ids])).map((v) => [keyOf(v), v]));
    return ids.map((id) => found.get(id) ?? missing(id));
  };
}
