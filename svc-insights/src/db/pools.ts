/** `databaseUrl` whose connections cancel any statement running longer than `ms` (libpq startup option). */
export function withStatementTimeout(databaseUrl: string, ms: number): string {
  const url = new URL(databaseUrl);
  const options = [url.searchParams.get("options"), `-c statement_timeout=${ms}`].filter(Boolean).join(" ");
  url.searchParams.set("options", options);
  return url.toString();
}
