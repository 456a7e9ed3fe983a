import { NotFoundError, unary, UnauthenticatedError, type ServiceRegistration } from "@apgms/common";
import {
  PrincipalServiceService,
  type PrincipalServiceServer,
  type ResolveOidcSubjectRequest,
  type ResolveOidcSubjectResponse,
  type VerifyApiKeyRequest,
  type VerifyApiKeyResponse,
} from "@apgms/proto/apgms/identity/v1/principal";
import { verifyApiKeySecret } from "../db/api-keys.js";
import { resolveOidcSubject } from "../db/users.js";
import * as v from "../domain/validate.js";
import { writing } from "../cache.js";
import type { HandlerDeps } from "./scope.js";
import { apiKeyToProto, tenantToProto, userToProto } from "./to-proto.js";

/**
 * Not tenant-scoped: the edge calls it to learn who (and which tenant) a
 * credential is, so both lookups see every tenant's rows. They are the edge's
 * hot path on a cache miss: they use the platform pool, whose connections are
 * in the platform scope, and need no transaction.
 */
export function principalService(deps: HandlerDeps): ServiceRegistration {
  const { platform, logger, cache } = deps;
  const implementation: PrincipalServiceServer = {
    resolveOidcSubject: unary<ResolveOidcSubjectRequest, ResolveOidcSubjectResponse>(logger, "ResolveOidcSubject", async (req) => {
      const issuer = v.text("issuer", req.issuer, 500);
      const subject = v.text("subject", req.subject, 255);
      const tenant = (req.tenant ?? "").trim().slice(0, 63);
      const found = await resolveOidcSubject(platform, issuer, subject, tenant);
      if (!found) throw new NotFoundError("user for this OIDC subject");
      return { user: userToProto(found.user), tenant: tenantToProto(found.tenant) };
    }),

    verifyApiKey: unary<VerifyApiKeyRequest, VerifyApiKeyResponse>(logger, "VerifyApiKey", async (req) => {
      // One answer for every failure: a caller learns nothing about which keys exist.
      const found = await writing(cache, (changes) => verifyApiKeySecret(platform, req.secret, changes));
      if (!found) throw new UnauthenticatedError("invalid API key");
      return { apiKey: apiKeyToProto(found.apiKey), tenant: tenantToProto(found.tenant) };
    }),
  };
  return { name: "apgms.identity.v1.PrincipalService", definition: PrincipalServiceService, implementation };
}
