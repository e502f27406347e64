//! HTTP client for FK-ORG's GraphQL read API: OAuth2 client credentials, KOMBIT's transaction
//! headers, paging, timeouts and retries.
