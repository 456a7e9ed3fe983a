// The demo tenant's activation funnel, made up but shaped like the real thing:
// sessions in which a person views offers, clicks some, redeems a few, over
// the last `days` calendar days (Europe-ish local time, UTC+1). Daily volume
// follows the week (weekends busier) and a slow growth; hours follow a
// day-and-evening curve; people come back on later days with a decaying
// probability (so retention cohorts look real) and keep their country;
// click and redemption rates depend on the channel and the offer.
// Deterministic: the same plan gives the same events with the same ids
// (`seed-00000000`, ...), so a second run stores nothing new.
import type { AttributeValue, Event } from "@apgms/proto/apgms/insights/v1/event";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Local time of the demo audience (a fixed offset: exact zones do not matter to made-up data). */
const LOCAL_OFFSET = HOUR;

export interface DemoOffer {
  campaign: string;
  offer: string;
  /** Share of the views it gets while it runs. */
  weight: number;
  /** Scales its click and redemption rates (1 = average). */
  appeal: number;
  /** Discount: basis points of the order (capped by maxDiscountMinor), or a fixed amount. */
  percentBps?: number;
  maxDiscountMinor?: number;
  amountOffMinor?: number;
  withCode: boolean;
  /** Days of the window it runs on: [fromDay, untilDay), 0 = the first. Default: all. */
  fromDay?: number;
  untilDay?: number;
}

export interface DemoPlan {
  /** Exactly this many events. */
  total: number;
  /** Epoch ms: every event is before it (the last day is today, up to 30 minutes before `end`). */
  end: number;
  days: number;
  offers: readonly DemoOffer[];
  seed?: number;
}

/** The deterministic id of the i-th demo event (zero-padded, so an id range is an index range). */
export const demoEventId = (i: number) => `seed-${String(i).padStart(8, "0")}`;
export const MAX_DEMO_EVENTS = 99_999_999;

const CHANNELS = [
  { name: "email", weight: 28, ctr: 0.16 },
  { name: "push", weight: 17, ctr: 0.12 },
  { name: "web", weight: 38, ctr: 0.08 },
  { name: "social", weight: 17, ctr: 0.05 },
] as const;
const COUNTRIES: ReadonlyArray<readonly [string, number]> = [
  ["DE", 34], ["FR", 14], ["NL", 9], ["ES", 9], ["IT", 9], ["AT", 7], ["PL", 6], ["BE", 5], ["SE", 4], ["DK", 3],
];
/** Monday first. */
const WEEKDAY = [1.0, 0.96, 1.0, 1.05, 1.15, 1.3, 1.2];
/** Local hours 0..23. */
const HOURS = [0.6, 0.35, 0.25, 0.2, 0.2, 0.3, 0.6, 1.1, 1.5, 1.7, 1.8, 1.9, 2.1, 2.0, 1.8, 1.7, 1.7, 1.9, 2.3, 2.6, 2.7, 2.4, 1.8, 1.1];
const CLICK_TO_REDEEM = 0.22;
const RETURNING_LIFT = 1.25;

/** mulberry32: small, fast, good enough for made-up data, and replayable. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Index into `weights` drawn with probability proportional to each. */
function weighted(r: number, weights: readonly number[], sum = weights.reduce((a, b) => a + b, 0)): number {
  let x = r * sum;
  for (let i = 0; i < weights.length; i++) {
    x -= weights[i]!;
    if (x < 0) return i;
  }
  return weights.length - 1;
}

/** A subject's country, fixed for the subject (a hash of its number, not the generator's stream). */
function countryOf(subject: number): string {
  const r = prng(subject * 2_654_435_761)();
  return COUNTRIES[weighted(r, COUNTRIES.map(([, w]) => w))]![0];
}

interface Draft {
  t: number;
  name: "offer.viewed" | "offer.clicked" | "offer.redeemed";
  subject: number;
  offer: DemoOffer;
  channel: string;
  orderMinor?: number;
}

function discountOf(o: DemoOffer, orderMinor: number): number {
  if (o.amountOffMinor !== undefined) return Math.min(o.amountOffMinor, orderMinor);
  const d = Math.floor((orderMinor * (o.percentBps ?? 0)) / 10_000);
  return o.maxDiscountMinor !== undefined ? Math.min(d, o.maxDiscountMinor) : d;
}

function toEvent(id: string, d: Draft): Event {
  const s = (v: string): AttributeValue => ({ stringValue: v });
  const attributes: { [key: string]: AttributeValue } = {
    campaign: s(d.offer.campaign),
    offer: s(d.offer.offer),
    channel: s(d.channel),
    country: s(countryOf(d.subject)),
  };
  if (d.orderMinor !== undefined) {
    attributes.currency = s("EUR");
    attributes.order_amount_minor = { numberValue: d.orderMinor };
    attributes.discount_minor = { numberValue: discountOf(d.offer, d.orderMinor) };
    attributes.with_code = { boolValue: d.offer.withCode };
  }
  return { id, name: d.name, occurTime: new Date(d.t), subjectId: `user-${d.subject}`, attributes, receiveTime: undefined };
}

/** How many events each day gets: the week's shape, growth and noise, today only for its elapsed hours. */
function dailyQuotas(plan: DemoPlan, firstDay: number, rand: () => number): { quotas: number[]; hourWeights: number[][] } {
  const hourWeights: number[][] = [];
  const weights: number[] = [];
  for (let d = 0; d < plan.days; d++) {
    const start = firstDay + d * DAY;
    const open = Math.min(DAY, plan.end - 30 * MINUTE - start);
    const hours = HOURS.map((w, h) => w * Math.max(0, Math.min(1, (open - h * HOUR) / HOUR)));
    hourWeights.push(hours);
    const weekday = (new Date(start + LOCAL_OFFSET).getUTCDay() + 6) % 7;
    const elapsed = hours.reduce((a, b) => a + b, 0) / HOURS.reduce((a, b) => a + b, 0);
    const running = plan.offers.some((o) => (o.fromDay ?? 0) <= d && d < (o.untilDay ?? plan.days));
    weights.push(running ? WEEKDAY[weekday]! * (1 + 0.012 * d) * (0.94 + 0.12 * rand()) * elapsed : 0);
  }
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum === 0 && plan.total > 0) throw new RangeError("no offer runs during the window");
  // The remainder goes to the last day with any events.
  const last = weights.findLastIndex((w) => w > 0);
  const quotas = weights.map((w) => Math.floor((plan.total * w) / sum));
  if (last >= 0) quotas[last]! += plan.total - quotas.reduce((a, b) => a + b, 0);
  return { quotas, hourWeights };
}

/**
 * The plan's events, day by day in time order, as batches of `batchSize`
 * with ids demoEventId(0), demoEventId(1), ... in that order.
 */
export function* demoEventBatches(plan: DemoPlan, batchSize: number): Generator<Event[]> {
  if (!Number.isInteger(plan.total) || plan.total < 0 || plan.total > MAX_DEMO_EVENTS) throw new RangeError(`total must be a whole number up to ${MAX_DEMO_EVENTS}`);
  const rand = prng(plan.seed ?? 20_261_125);
  const firstDay = Math.floor((plan.end + LOCAL_OFFSET) / DAY) * DAY - LOCAL_OFFSET - (plan.days - 1) * DAY;
  const { quotas, hourWeights } = dailyQuotas(plan, firstDay, rand);
  // Who was active on each day: the pool returning visitors come from.
  const activeOn: number[][] = [];
  // A visitor returns k days later with weight k^-1.1: most come back soon, some weeks later.
  const lagWeights = Array.from({ length: plan.days }, (_, k) => (k === 0 ? 0 : k ** -1.1));
  let nextSubject = 1;
  let nextId = 0;
  let batch: Event[] = [];
  for (let d = 0; d < plan.days; d++) {
    const start = firstDay + d * DAY;
    const running = plan.offers.filter((o) => (o.fromDay ?? 0) <= d && d < (o.untilDay ?? plan.days));
    const offerWeights = running.map((o) => o.weight);
    const returning = d === 0 ? 0 : 0.62 * (1 - Math.exp(-d / 3));
    const lags = lagWeights.slice(0, d + 1);
    const seen = new Set<number>();
    const drafts: Draft[] = [];
    while (drafts.length < quotas[d]! && running.length > 0) {
      let subject: number;
      const back = rand() < returning;
      const pool = back ? activeOn[d - weighted(rand(), lags)]! : [];
      if (pool.length > 0) {
        subject = pool[Math.floor(rand() * pool.length)]!;
      } else {
        subject = nextSubject++;
      }
      seen.add(subject);
      const hour = weighted(rand(), hourWeights[d]!);
      let t = start + hour * HOUR + rand() * Math.min(HOUR, plan.end - 30 * MINUTE - start - hour * HOUR);
      const channel = CHANNELS[weighted(rand(), CHANNELS.map((c) => c.weight))]!;
      const views = 1 + Math.floor(-Math.log(1 - rand()) * 1.3);
      for (let v = 0; v < views && drafts.length < quotas[d]!; v++) {
        const offer = running[weighted(rand(), offerWeights)]!;
        t += 5_000 + rand() * 60_000;
        drafts.push({ t, name: "offer.viewed", subject, offer, channel: channel.name });
        const lift = offer.appeal * (pool.length > 0 ? RETURNING_LIFT : 1);
        if (rand() >= channel.ctr * lift || drafts.length >= quotas[d]!) continue;
        const clickedAt = t + 3_000 + rand() * 90_000;
        drafts.push({ t: clickedAt, name: "offer.clicked", subject, offer, channel: channel.name });
        if (rand() >= CLICK_TO_REDEEM * lift || drafts.length >= quotas[d]!) continue;
        const orderMinor = 2_000 + Math.round(Math.exp(8.6 + 0.5 * (rand() + rand() + rand() - 1.5)));
        drafts.push({ t: clickedAt + 30_000 + rand() * 20 * MINUTE, name: "offer.redeemed", subject, offer, channel: channel.name, orderMinor });
      }
    }
    activeOn.push([...seen]);
    drafts.sort((a, b) => a.t - b.t);
    for (const draft of drafts) {
      batch.push(toEvent(demoEventId(nextId++), { ...draft, t: Math.floor(draft.t) }));
      if (batch.length === batchSize) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length > 0) yield batch;
}
