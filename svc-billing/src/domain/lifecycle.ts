// A campaign's lifecycle (campaign.proto, docs/api.md "Billing"):
//   DRAFT → SCHEDULED → ACTIVE; DRAFT → ACTIVE; ACTIVE ⇄ PAUSED; SCHEDULED → DRAFT;
//   anything but ENDED → ENDED. ENDED is final.
// Every other move is refused with FAILED_PRECONDITION naming the current state.
import { FailedPreconditionError } from "@apgms/common";
import type { BillingEventType } from "../db/outbox.js";
import type { CampaignState } from "./model.js";

export type CampaignAction = "schedule" | "unschedule" | "activate" | "pause" | "end";

export interface Transition {
  from: readonly CampaignState[];
  to: CampaignState;
  /** The outbox event announcing it (unscheduling announces nothing). */
  event?: BillingEventType;
}

export const TRANSITIONS: Readonly<Record<CampaignAction, Transition>> = {
  schedule: { from: ["draft"], to: "scheduled", event: "campaign.scheduled" },
  unschedule: { from: ["scheduled"], to: "draft" },
  activate: { from: ["draft", "scheduled", "paused"], to: "active", event: "campaign.activated" },
  pause: { from: ["active"], to: "paused", event: "campaign.paused" },
  end: { from: ["draft", "scheduled", "active", "paused"], to: "ended", event: "campaign.ended" },
};

export const CAMPAIGN_STATES: readonly CampaignState[] = ["draft", "scheduled", "active", "paused", "ended"];

/** The state as the API names it: "ENDED". */
export function stateName(state: CampaignState): string {
  return state.toUpperCase();
}

/** The refusal of `doing` (e.g. "pause it") in the campaign's current state. */
export function refusedIn(campaignId: string, state: CampaignState, doing: string): FailedPreconditionError {
  return new FailedPreconditionError(`campaign ${campaignId} is ${stateName(state)}: cannot ${doing}`);
}

/** The state `action` leads to from `state`, or the refusal naming `state`. */
export function nextState(campaignId: string, state: CampaignState, action: CampaignAction): CampaignState {
  const transition = TRANSITIONS[action];
  if (!transition.from.includes(state)) throw refusedIn(campaignId, state, `${action} it`);
  return transition.to;
}

/** What UpdateCampaign may change, by the campaign's state (campaign.proto, UpdateCampaign). */
export type CampaignEdit = "name" | "description" | "end_time" | "budget" | "budget_kind" | "currency" | "start_time";

const DRAFT_ONLY: ReadonlySet<CampaignEdit> = new Set(["budget_kind", "currency", "start_time"]);

/** Refuses `edit` unless the campaign's state allows it: nothing once ENDED; kind, currency and start in DRAFT only. */
export function assertEditable(campaignId: string, state: CampaignState, edit: CampaignEdit): void {
  if (state === "ended") throw refusedIn(campaignId, state, "update it");
  if (DRAFT_ONLY.has(edit) && state !== "draft") throw refusedIn(campaignId, state, `change its ${edit.replace("_", " ")} (DRAFT only)`);
}
