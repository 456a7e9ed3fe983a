import type { RequestContext } from "../context.js";

// The verified context of each call, keyed by the call object itself: only the
// server's credential gate writes it, so nothing a caller sends can set it.
const contexts = new WeakMap<object, RequestContext>();

export function bindCallContext(call: object, ctx: RequestContext): void {
  contexts.set(call, ctx);
}

/** The context the credential gate verified for this call, if it did. */
export function callContext(call: object): RequestContext | undefined {
  return contexts.get(call);
}
