/** What an offer takes off an order: the value's terms, which never change once the offer exists. */
export interface OfferValueTerms {
  valueKind: "percent" | "amount";
  percentBps: number | null;
  amountOffMinor: number | null;
  maxDiscountMinor: number | null;
}

/**
 * The discount on an order of `orderMinor` minor units: a percentage rounds
 * down to a minor unit (the merchant never gives more than it said), is
 * capped by max_discount, and no discount exceeds the order.
 */
export function discountFor(terms: OfferValueTerms, orderMinor: number): number {
  let discount =
    terms.valueKind === "percent"
      ? Number((BigInt(orderMinor) * BigInt(terms.percentBps ?? 0)) / 10_000n)
      : (terms.amountOffMinor ?? 0);
  if (terms.maxDiscountMinor !== null) discount = Math.min(discount, terms.maxDiscountMinor);
  return Math.max(0, Math.min(discount, orderMinor));
}
