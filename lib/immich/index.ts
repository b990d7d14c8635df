export * from './types';
export { ImmichClient, searchBody, MAX_PAGE_SIZE, type ImmichClientOptions, type AssetDetailsOptions } from './client';
export { ImmichApiError, ServerContractError, redactSecret, type ImmichErrorKind } from './errors';
export { ImmichHttpTransport, NetworkFailure, DEFAULT_RETRY, parseRetryAfter, networkCodeOf } from './transport';
export type { ImmichTransport, ImmichRequestOptions, RawSender, RawRequest, RawResponse, RetryOptions, HttpTransportOptions, RetryEvent } from './transport';
export { ENDPOINT_PERMISSIONS, REQUIRED_API_KEY_PERMISSIONS, permissionFor, routeKey } from './permissions';
export { apiRootCandidates, normalizeBaseUrl, joinUrl } from './url';
export { mapWithConcurrency, settleWithConcurrency, type Settled } from './concurrency';
