const EMAIL = /([A-Za-z0-9._%+'-]+)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)/g;

/**
 * Masks an email: its first character, "***", and the domain
 * (`owner@demo.apgms.dev` → `o***@demo.apgms.dev`). Masked rather than hashed:
 * an unsalted hash of an email is reversed by guessing, and the domain is what
 * an operator needs (which company); the user id in the record says who.
 */
export function maskEmail(email: string): string {
  return email.replace(EMAIL, (_m, local: string, domain: string) => `${local.slice(0, 1)}***@${domain}`);
}

/** An IPv4 address without its last octet, an IPv6 one without its last 80 bits: a network, not a person. */
export function maskIp(ip: string): string {
  const v4 = /^(?:::ffff:)?(\d+\.\d+\.\d+)\.\d+$/i.exec(ip);
  if (v4) return `${v4[1]}.0`;
  if (ip.includes(":")) return `${ip.split(":").slice(0, 3).join(":")}::`;
  return "";
}

/** Detail keys that may carry a secret or a person's name: their values are never recorded. */
const SECRET_KEY = /secret|token|password|code|authorization|cookie|apikey|api_key|credential|display_?name|full_?name|phone/i;

// Control characters (NUL above all: Postgres text cannot hold it) have no place in a record.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/g;

/** A string safe to store and to show: control characters replaced by U+FFFD. */
export const printable = (value: string): string => value.replace(CONTROL, "\uFFFD");

/**
 * The redaction every audit record goes through, whatever its emitter passed:
 * values under secret-like keys are replaced, emails are masked, values are
 * cut at 256 characters and there are at most 32 of them.
 */
export function redactDetails(details: Record<string, string | number | boolean | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(details).slice(0, 32)) {
    if (value === undefined) continue;
    out[printable(key).slice(0, 64)] = SECRET_KEY.test(key) ? "[redacted]" : printable(maskEmail(String(value))).slice(0, 256);
  }
  return out;
}
