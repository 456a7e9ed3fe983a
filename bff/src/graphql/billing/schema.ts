/**
 * The billing part of the edge's GraphQL contract (svc-billing: campaigns,
 * offers and their codes, redemptions, refunds, transactions). Proto field
 * names map to these names by errors.ts's graphqlField rule; the exceptions
 * (`start_time` → `startsAt`, …) are in PROTO_FIELD_EXCEPTIONS.
 */
export const typeDefs = /* GraphQL */ `
  """
  A whole number of a currency's minor units (cents for EUR, yen for JPY), as
  a JSON number: 19.99 EUR is 1999. Never a float; at most 2^53 - 1.
  """
  scalar MinorUnits

  "An amount of money: minor units and an ISO 4217 currency."
  type Money {
    amountMinor: MinorUnits!
    "Three upper-case letters, e.g. EUR."
    currency: String!
  }

  input MoneyInput {
    amountMinor: MinorUnits!
    currency: String!
  }

  """
  DRAFT → SCHEDULED (scheduleCampaign) → ACTIVE (at its start, or activateCampaign);
  DRAFT → ACTIVE; ACTIVE ⇄ PAUSED; any but ENDED → ENDED (endCampaign, or its end passing);
  SCHEDULED → DRAFT (unscheduleCampaign). ENDED is final.
  """
  enum CampaignState {
    DRAFT
    SCHEDULED
    ACTIVE
    PAUSED
    ENDED
  }

  "What a campaign may give away: a total discount (spend) or a number of redemptions."
  type Budget {
    "Total discount, in the campaign's currency."
    spend: Money
    "Total number of redemptions."
    redemptions: Int
  }

  "Exactly one of the two."
  input BudgetInput {
    "Total discount in the campaign's currency (> 0)."
    spendMinor: MinorUnits
    "Total number of redemptions (> 0)."
    redemptions: Int
  }

  type Campaign {
    id: ID!
    name: String!
    description: String!
    state: CampaignState!
    "ISO 4217: every offer and redemption of the campaign is in it."
    currency: String!
    "Null: no budget (unlimited)."
    budget: Budget
    "Redemptions are accepted from then (when set)."
    startsAt: DateTime
    "… until then (when set)."
    endsAt: DateTime
    createdAt: DateTime!
    updatedAt: DateTime!
    "Net of refunds. A page of campaigns asks for all its totals in one call."
    totals: CampaignTotals!
    "Newest first."
    offers(first: Int, after: String): OfferConnection!
  }

  type CampaignConnection {
    nodes: [Campaign!]!
    pageInfo: PageInfo!
  }

  "A campaign's redemptions and what they gave, net of refunds."
  type CampaignTotals {
    campaign: Campaign!
    "Redemptions not fully refunded."
    redemptions: Int!
    discountGiven: Money!
    refunded: Money!
    "Null without a spend budget."
    budgetLeft: Money
    "Null without a redemptions budget."
    redemptionsLeft: Int
    "0..1 of the budget used (spend or redemptions); 0 without a budget. A ratio, never money."
    budgetUsedRatio: Float!
  }

  "How an offer is redeemed."
  enum CodeKind {
    "By the offer's id (an automatic promotion): no code."
    NONE
    "One code everyone uses (sharedCode), within the offer's limits."
    SHARED
    "Generated or imported codes, each redeemable once."
    UNIQUE
  }

  "What an offer takes off an order (never more than the order)."
  type OfferValue {
    "Basis points of the order amount, 1..10000 (10000 = 100%), rounded down to a minor unit."
    percentOffBps: Int
    "A fixed amount, in the campaign's currency."
    amountOff: Money
    "For a percentage: the most it takes off."
    maxDiscount: Money
  }

  "percentOffBps or amountOff, exactly one; maxDiscount only with a percentage."
  input OfferValueInput {
    percentOffBps: Int
    amountOff: MoneyInput
    maxDiscount: MoneyInput
  }

  type Offer {
    id: ID!
    campaignId: ID!
    campaign: Campaign!
    name: String!
    value: OfferValue!
    codeKind: CodeKind!
    "SHARED only; unique in the tenant, case-insensitive."
    sharedCode: String
    "Total redemptions allowed; null: no limit."
    maxRedemptions: Int
    "Redemptions per customer reference; null: no limit."
    maxPerCustomer: Int
    "The smallest order it applies to."
    minOrder: Money
    startsAt: DateTime
    endsAt: DateTime
    "Redemptions not fully refunded."
    redemptionCount: Int!
    "UNIQUE: codes generated or imported."
    codeCount: Int!
    "UNIQUE: codes not yet redeemed."
    codesAvailable: Int!
    "A disabled offer refuses redemptions."
    enabled: Boolean!
    createdAt: DateTime!
    updatedAt: DateTime!
    "UNIQUE offers' codes; redeemed: only unused (false) or only redeemed (true) ones."
    codes(first: Int, after: String, redeemed: Boolean): OfferCodeConnection!
  }

  type OfferConnection {
    nodes: [Offer!]!
    pageInfo: PageInfo!
  }

  "One of a UNIQUE offer's codes."
  type OfferCode {
    code: String!
    offer: Offer!
    redeemed: Boolean!
    "The redemption that used it."
    transaction: Transaction
    redeemedAt: DateTime
  }

  type OfferCodeConnection {
    nodes: [OfferCode!]!
    pageInfo: PageInfo!
  }

  "What offerByCode finds: the offer, and for a unique code the code's own state."
  type OfferByCode {
    offer: Offer!
    "Null for a shared code."
    code: OfferCode
  }

  enum TransactionKind {
    "discount is what the campaign gave."
    REDEMPTION
    "A refund of (part of) a redemption's discount: discount is what went back to the budget."
    REFUND
  }

  enum TransactionStatus {
    "A refund, or a redemption nothing was refunded of."
    COMPLETED
    PARTIALLY_REFUNDED
    "Refunded in full: it no longer counts against any limit."
    REFUNDED
  }

  "Why a redemption is refused (validateRedemption's reason; redeem's error has it as extensions.reason)."
  enum RefusalReason {
    CAMPAIGN_NOT_ACTIVE
    CAMPAIGN_NOT_STARTED
    CAMPAIGN_ENDED
    OFFER_DISABLED
    OFFER_NOT_STARTED
    OFFER_EXPIRED
    CURRENCY_MISMATCH
    ORDER_BELOW_MINIMUM
    OFFER_LIMIT_REACHED
    CUSTOMER_LIMIT_REACHED
    BUDGET_EXHAUSTED
    CODE_ALREADY_REDEEMED
    "The offer has unique codes: redeem one of them, not the offer."
    CODE_REQUIRED
  }

  type Transaction {
    id: ID!
    kind: TransactionKind!
    status: TransactionStatus!
    campaignId: ID!
    campaign: Campaign!
    offerId: ID!
    offer: Offer!
    "The code redeemed, if any."
    code: String
    customerRef: String!
    "Redemptions: the order it applied to."
    orderAmount: Money
    discount: Money!
    "Redemptions: how much of the discount has been refunded."
    refunded: Money
    "Refunds: the redemption refunded."
    redemption: Transaction
    "Refunds: why, as given."
    reason: String
    createdAt: DateTime!
  }

  type TransactionConnection {
    nodes: [Transaction!]!
    pageInfo: PageInfo!
  }

  "Would redeem succeed now, and with what discount? Nothing is written."
  type RedemptionValidation {
    valid: Boolean!
    "What redeem would take off (when valid)."
    discount: Money
    "Why not (when not valid)."
    reason: RefusalReason
    message: String
    campaign: Campaign
    offer: Offer
  }

  type GenerateCodesPayload {
    generated: Int!
    "Up to the first 1,000 codes made (the rest through Offer.codes)."
    sample: [String!]!
  }

  type ImportCodesPayload {
    imported: Int!
  }

  type RefundPayload {
    "The refund."
    refund: Transaction!
    "The redemption, updated."
    redemption: Transaction!
  }

  extend type Query {
    campaign(id: ID!): Campaign!
    "Newest first; states: any of these (default all); nameContains: case-insensitive."
    campaigns(first: Int, after: String, states: [CampaignState!], nameContains: String): CampaignConnection!
    offer(id: ID!): Offer!
    "The offer a shared or unique code belongs to; NOT_FOUND for an unknown code."
    offerByCode(code: String!): OfferByCode!
    "Newest first; campaignId: only that campaign's."
    offers(first: Int, after: String, campaignId: ID): OfferConnection!
    transaction(id: ID!): Transaction!
    "Newest first; from/to: [from, to) on createdAt."
    transactions(
      first: Int
      after: String
      campaignId: ID
      offerId: ID
      statuses: [TransactionStatus!]
      kind: TransactionKind
      customerRef: String
      from: DateTime
      to: DateTime
    ): TransactionConnection!
    campaignTotals(campaignId: ID!): CampaignTotals!
    "Would this redemption succeed for this customer and order? Writes nothing (billing:read or billing:redeem)."
    validateRedemption(input: RedemptionInput!): RedemptionValidation!
  }

  input CreateCampaignInput {
    name: String!
    description: String
    "ISO 4217, e.g. EUR."
    currency: String!
    "Absent: no budget."
    budget: BudgetInput
    startsAt: DateTime
    endsAt: DateTime
  }

  "Name, description and endsAt any time before ENDED; currency, budget kind and startsAt in DRAFT only; a budget may be raised, or lowered to no less than is used."
  input UpdateCampaignInput {
    name: String
    description: String
    currency: String
    "Replaces the budget."
    budget: BudgetInput
    "Removes the budget (unlimited)."
    clearBudget: Boolean
    startsAt: DateTime
    endsAt: DateTime
    clearEndsAt: Boolean
  }

  input CreateOfferInput {
    campaignId: ID!
    name: String!
    value: OfferValueInput!
    codeKind: CodeKind!
    "SHARED only."
    sharedCode: String
    "Absent or 0: no limit."
    maxRedemptions: Int
    "Absent or 0: no limit."
    maxPerCustomer: Int
    minOrder: MoneyInput
    startsAt: DateTime
    endsAt: DateTime
  }

  "Limits may not drop below what is already used; 0 removes a limit."
  input UpdateOfferInput {
    name: String
    maxRedemptions: Int
    maxPerCustomer: Int
    enabled: Boolean
    startsAt: DateTime
    endsAt: DateTime
    clearEndsAt: Boolean
  }

  "What to redeem (a code, or the offer's id for a CodeKind NONE offer: exactly one), for whom, on what order."
  input RedemptionInput {
    code: String
    offerId: ID
    customerRef: String!
    orderAmount: MoneyInput!
  }

  input RedeemInput {
    code: String
    offerId: ID
    customerRef: String!
    orderAmount: MoneyInput!
    "Up to 200 characters: a retry with the same key answers the first transaction; the same key with other parameters is refused (CONFLICT)."
    idempotencyKey: String
  }

  extend type Mutation {
    createCampaign(input: CreateCampaignInput!): Campaign!
    updateCampaign(id: ID!, input: UpdateCampaignInput!): Campaign!
    "DRAFT → SCHEDULED; startsAt must be in the future."
    scheduleCampaign(id: ID!, startsAt: DateTime!, endsAt: DateTime): Campaign!
    "SCHEDULED → DRAFT."
    unscheduleCampaign(id: ID!): Campaign!
    "DRAFT, SCHEDULED or PAUSED → ACTIVE now."
    activateCampaign(id: ID!): Campaign!
    "ACTIVE → PAUSED."
    pauseCampaign(id: ID!): Campaign!
    "Anything but ENDED → ENDED."
    endCampaign(id: ID!): Campaign!
    "The campaign must not be ENDED; money in another currency than the campaign's is refused."
    createOffer(input: CreateOfferInput!): Offer!
    updateOffer(id: ID!, input: UpdateOfferInput!): Offer!
    "UNIQUE offers: 1..100,000 new codes; pattern: # is a random character of charset (default ########); charset default: A-Z and 2-9 without look-alikes."
    generateCodes(offerId: ID!, count: Int!, pattern: String, charset: String): GenerateCodesPayload!
    "UNIQUE offers: codes from CSV (one per line, or a code column), up to 100,000; all or nothing."
    importCodes(offerId: ID!, codesCsv: String!): ImportCodesPayload!
    "Redeems an offer (by code, or by id for CodeKind NONE): a REDEMPTION transaction. A refusal is FAILED_PRECONDITION with extensions.reason."
    redeem(input: RedeemInput!): Transaction!
    "Refunds part (amount) or all that is left refundable of a redemption's discount."
    refundTransaction(id: ID!, amount: MoneyInput, reason: String, idempotencyKey: String): RefundPayload!
  }
`;
