/**
 * Shapes of every secret the platform hands out or accepts. Log checks look
 * for these, so a leak of a secret no test listed by value (a service token
 * minted inside the edge, say) is still caught.
 */
export const SECRET_SHAPES: ReadonlyArray<readonly [what: string, shape: RegExp]> = [
  ["JWT", /eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}/],
  ["API key secret", /apgms_[0-9A-Za-z]{8}_[0-9A-Za-z]{32}/],
  ["invitation code", /apgms_inv_[0-9A-Za-z]{32}/],
  ["PEM private key", /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
];

/** Where in `text` something shaped like a secret appears: its kind and 1-based line, never the secret. */
export function findSecretShapes(text: string): Array<{ what: string; line: number }> {
  const found: Array<{ what: string; line: number }> = [];
  text.split("\n").forEach((l, i) => {
    for (const [what, shape] of SECRET_SHAPES) if (shape.test(l)) found.push({ what, line: i + 1 });
  });
  return found;
}
