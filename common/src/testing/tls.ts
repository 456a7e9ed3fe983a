import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export interface TestPki {
  dir: string;
  /** PEM file paths. */
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

/**
 * A throwaway CA with a server certificate for 127.0.0.1/localhost and a
 * client certificate, made with the openssl CLI (P-256, valid one day).
 */
export function createTestPki(): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), "apgms-pki-"));
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=apgms-test-ca", "-days", "1"], dir);
  const issue = (name: string, cn: string, ext: string) => {
    writeFileSync(path.join(dir, `${name}.ext`), `${ext}\n`);
    openssl(["req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`], dir);
    openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.crt`, "-days", "1", "-extfile", `${name}.ext`], dir);
  };
  issue("server", "localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth");
  issue("client", "bff", "extendedKeyUsage=clientAuth");
  const file = (f: string) => path.join(dir, f);
  return {
    dir,
    ca: file("ca.crt"),
    serverCert: file("server.crt"),
    serverKey: file("server.key"),
    clientCert: file("client.crt"),
    clientKey: file("client.key"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
