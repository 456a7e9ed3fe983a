// `make preflight`: the Node version. APGMS is built for Node 24 LTS (what
// production runs) and 22 >= 22.15. 20.19+ still runs it, with a warning:
// Node 20 is past its end of life, and dependencies such as @whatwg-node/*
// declare node >= 22.15, so npm ci warns EBADENGINE. Below 20.19: exit 1.
const v = process.version;
const [major, minor] = process.versions.node.split(".").map(Number);
const built = "Node 24 LTS (production) or 22 >= 22.15";
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`[preflight] Node ${v} found; APGMS needs >= 20.19 and is built for ${built}`);
  process.exit(1);
}
if (major < 22 || (major === 22 && minor < 15)) {
  console.error(
    `[preflight] WARNING: Node ${v} is not what APGMS is built for: use ${built}.\n` +
      `[preflight]   It still runs on ${v}, but npm warns that some dependencies want node >= 22.15` +
      (major === 20 ? ", and Node 20 is past its end of life." : "."),
  );
}
