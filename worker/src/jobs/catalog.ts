// The job kinds this worker runs: each declared once, with its delivery policy,
// in its own file; the streams and consumers follow from this list
// (topology.ts). Webhooks, exports, reports, alerts and purges join here.
import type { Job } from "./define.js";
import { noopJob } from "./noop.js";

export const JOBS: readonly Job[] = [noopJob];
