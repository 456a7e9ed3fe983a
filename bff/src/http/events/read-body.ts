import type { IncomingMessage } from "node:http";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { EventsRequestError } from "./reply.js";

const gunzipAsync = promisify(gunzip);

export interface BodyLimits {
  /** Bytes on the wire (compressed or not). */
  maxBodyBytes: number;
  /** Bytes once gunzipped: inflation stops there (a zip bomb costs at most this much memory). */
  maxDecodedBytes: number;
}

export interface EventsBody {
  text: string;
  /** Bytes received. */
  bytes: number;
  /** Bytes after decompression (= bytes without gzip). */
  decodedBytes: number;
  gzip: boolean;
}

const MiB = 1024 * 1024;
const size = (n: number) => (n % MiB === 0 ? `${n / MiB} MiB` : `${n} bytes`);
const tooLarge = (what: string, max: number) =>
  new EventsRequestError(413, "REQUEST_ENTITY_TOO_LARGE", `${what} is over ${size(max)}; split the events into several calls`, { limit: max });

/** gzip, or none; anything else is refused before the body is read. */
function encodingOf(req: IncomingMessage): boolean {
  const header = (req.headers["content-encoding"] ?? "").trim().toLowerCase();
  if (header === "" || header === "identity") return false;
  if (header === "gzip" || header === "x-gzip") return true;
  throw new EventsRequestError(415, "UNSUPPORTED_MEDIA_TYPE", `Content-Encoding ${JSON.stringify(header.slice(0, 40))} is not accepted; send gzip or no encoding`);
}

function readRaw(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > max) return Promise.reject(tooLarge("the request body", max));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > max) {
        // Stop reading; the handler answers 413 and closes the connection (the rest is never read).
        req.off("data", onData);
        req.pause();
        reject(tooLarge("the request body", max));
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks, received)));
    // The client went away or broke the upload: its fault, not the edge's (never logged as an error).
    req.once("error", (err) => reject(new EventsRequestError(400, "BAD_REQUEST", `the request body could not be read whole: ${err.message}`)));
  });
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The body as text: read up to the wire limit, gunzipped up to the decoded limit, UTF-8 checked. */
export async function readEventsBody(req: IncomingMessage, limits: BodyLimits): Promise<EventsBody> {
  const gzip = encodingOf(req);
  const raw = await readRaw(req, limits.maxBodyBytes);
  let decoded = raw;
  if (gzip) {
    try {
      decoded = await gunzipAsync(raw, { maxOutputLength: limits.maxDecodedBytes });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") throw tooLarge("the decompressed body", limits.maxDecodedBytes);
      throw new EventsRequestError(400, "INVALID_GZIP", `the body is not valid gzip (Content-Encoding: gzip): ${(err as Error).message}`);
    }
  }
  let text: string;
  try {
    text = utf8.decode(decoded);
  } catch {
    throw new EventsRequestError(400, "INVALID_JSON", "the body is not UTF-8 text");
  }
  return { text, bytes: raw.length, decodedBytes: decoded.length, gzip };
}
