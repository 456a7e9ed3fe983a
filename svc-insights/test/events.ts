// Events for tests: proto events from short descriptions, and the same
// events as plain records the tests compute their expected answers from.
import type { AttributeValue, Event } from "@apgms/proto/apgms/insights/v1/event";

export type Plain = string | number | boolean;

export interface TestEvent {
  id: string;
  name: string;
  /** Epoch ms. */
  t: number;
  subject: string;
  attributes?: Record<string, Plain>;
}

export function value(v: Plain): AttributeValue {
  return typeof v === "string" ? { stringValue: v } : typeof v === "number" ? { numberValue: v } : { boolValue: v };
}

export function toProto(e: TestEvent): Event {
  const attributes: { [key: string]: AttributeValue } = {};
  for (const [k, v] of Object.entries(e.attributes ?? {})) attributes[k] = value(v);
  return { id: e.id, name: e.name, occurTime: new Date(e.t), subjectId: e.subject, attributes, receiveTime: undefined };
}

/** A deterministic pseudo-random generator (mulberry32), so a failing data shape can be replayed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)]!;
