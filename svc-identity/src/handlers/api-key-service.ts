import { NotFoundError, type ServiceRegistration } from "@apgms/common";
import {
  ApiKeyServiceService,
  type ApiKeyServiceServer,
  type CreateApiKeyRequest,
  type CreateApiKeyResponse,
  type GetApiKeyRequest,
  type GetApiKeyResponse,
  type ListApiKeysRequest,
  type ListApiKeysResponse,
  type RevokeApiKeyRequest,
  type RevokeApiKeyResponse,
  type RotateApiKeyRequest,
  type RotateApiKeyResponse,
} from "@apgms/proto/apgms/identity/v1/api_key";
import { createApiKey, findApiKey, listApiKeys, revokeApiKey, rotateApiKey } from "../db/api-keys.js";
import { gracePeriod } from "../domain/grace-period.js";
import { scopes } from "../domain/scopes.js";
import * as v from "../domain/validate.js";
import { actorOf, scoped, scopedRead, type HandlerDeps } from "./scope.js";
import { apiKeyToProto } from "./to-proto.js";

export function apiKeyService(deps: HandlerDeps): ServiceRegistration {
  const { config } = deps;
  const implementation: ApiKeyServiceServer = {
    createApiKey: scoped<CreateApiKeyRequest, CreateApiKeyResponse>(deps, "CreateApiKey", async (req, { tenantId, ctx, db }) => {
      const { apiKey, secret } = await createApiKey(db, tenantId, {
        name: v.name("name", req.name),
        scopes: scopes("scopes", req.scopes),
        expiresAt: v.futureTime("expire_time", req.expireTime),
        createdBy: actorOf(ctx),
      });
      return { apiKey: apiKeyToProto(apiKey), secret };
    }),

    getApiKey: scopedRead<GetApiKeyRequest, GetApiKeyResponse>(deps, "GetApiKey", async (req, { tenantId, cache, read }) => {
      const id = v.uuid("api_key_id", req.apiKeyId);
      const apiKey = await cache.apiKeys.get(tenantId, id, () => read((db) => findApiKey(db, tenantId, id)));
      if (!apiKey) throw new NotFoundError("API key", id);
      return { apiKey: apiKeyToProto(apiKey) };
    }),

    listApiKeys: scoped<ListApiKeysRequest, ListApiKeysResponse>(deps, "ListApiKeys", async (req, { tenantId, pages, db }) => {
      const { apiKeys, nextPageToken } = await listApiKeys(db, tenantId, pages.read(req.page), req.includeRevoked);
      return { apiKeys: apiKeys.map(apiKeyToProto), page: pages.next(nextPageToken) };
    }),

    rotateApiKey: scoped<RotateApiKeyRequest, RotateApiKeyResponse>(deps, "RotateApiKey", async (req, { tenantId, ctx, db, changes }) => {
      const id = v.uuid("api_key_id", req.apiKeyId);
      const grace = gracePeriod("grace_period_seconds", req.gracePeriodSeconds, config.API_KEY_GRACE_DEFAULT_SECONDS);
      const { apiKey, secret } = await rotateApiKey(db, tenantId, id, grace, actorOf(ctx), changes);
      return { apiKey: apiKeyToProto(apiKey), secret };
    }),

    revokeApiKey: scoped<RevokeApiKeyRequest, RevokeApiKeyResponse>(deps, "RevokeApiKey", async (req, { tenantId, db, changes }) => {
      const apiKey = await revokeApiKey(db, tenantId, v.uuid("api_key_id", req.apiKeyId), changes);
      return { apiKey: apiKeyToProto(apiKey) };
    }),
  };
  return { name: "apgms.identity.v1.ApiKeyService", definition: ApiKeyServiceService, implementation };
}
