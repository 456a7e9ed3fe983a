// The analytics tests' data: activation flows (viewed → clicked → redeemed)
// of 60 subjects over 16 days that hold two DST ends (Europe/Berlin on
// 2026-10-25, America/New_York on 2026-11-01), plus events placed exactly on
// and just before bucket edges of Berlin, Kolkata (+05:30) and New York's
// repeated hour.
import { pick, rng, type TestEvent } from "./events.js";

export const FROM = Date.UTC(2026, 9, 20);
export const TO = Date.UTC(2026, 10, 5);
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export const CAMPAIGNS = ["autumn", "spring", "summer"];
export const CHANNELS = ["app", "email", "web"];

/** Instants on the edges the tests look at. */
export const EDGES = {
  berlinMidnight: Date.UTC(2026, 9, 25, 23), // 2026-10-26 00:00 CET
  kolkataMidnight: Date.UTC(2026, 9, 26, 18, 30), // 2026-10-27 00:00 IST
  newYorkFirstOneAm: Date.UTC(2026, 10, 1, 5), // 01:00 EDT
  newYorkSecondOneAm: Date.UTC(2026, 10, 1, 6), // 01:00 EST
};

export function dataset(seed: number): TestEvent[] {
  const r = rng(seed);
  const events: TestEvent[] = [];
  let n = 0;
  const add = (name: string, t: number, subject: string, attributes: TestEvent["attributes"]) => {
    if (t < TO) events.push({ id: `ev-${seed}-${n++}`, name, t, subject, attributes });
  };
  for (let s = 0; s < 60; s++) {
    const subject = `s-${s}`;
    const member = s % 3 === 0;
    const sessions = 1 + Math.floor(r() * 6);
    for (let k = 0; k < sessions; k++) {
      const campaign = pick(r, CAMPAIGNS);
      const channel = pick(r, CHANNELS);
      const base = { campaign, channel, ...(s % 5 === 0 ? {} : { member }) };
      let t = FROM + Math.floor(r() * (TO - FROM));
      add("offer.viewed", t, subject, base);
      if (r() < 0.2) add("offer.viewed", t + Math.floor(r() * 2 * HOUR), subject, base);
      if (r() < 0.6) {
        t += Math.floor(r() * 3 * HOUR);
        add("offer.clicked", t, subject, { ...base, position: 1 + Math.floor(r() * 3) });
        if (r() < 0.5) {
          t += Math.floor(r() * 30 * HOUR);
          add("offer.redeemed", t, subject, { ...base, amount: 1 + Math.floor(r() * 100) });
        }
      }
    }
    // A click before any view: never a funnel step 2 on its own.
    if (s % 7 === 0) add("offer.clicked", FROM + Math.floor(r() * DAY), subject, { campaign: "spring", channel: "web" });
  }
  const edge = (t: number, i: number) => ({ campaign: CAMPAIGNS[i % 3]!, channel: "web", amount: 10 });
  let i = 0;
  for (const t of Object.values(EDGES)) {
    for (const dt of [-1, 0, 1]) {
      add("offer.viewed", t + dt, `edge-${i % 4}`, edge(t, i));
      add("offer.redeemed", t + dt, `edge-${i % 4}`, edge(t, i));
      i++;
    }
  }
  return events;
}
