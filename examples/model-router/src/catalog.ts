/** A model the router serves and the providers able to serve it. */
export interface ModelEntry {
  id: string
  ownedBy: string
  providers: string[]
}

/** A provider: where it listens. */
export interface ProviderEntry {
  name: string
  url: string
}

/** The embedded catalog the app writes into its database at start-up. */
export const CATALOG_MODELS: ModelEntry[] = [
  { id: 'gpt-4o-mini', ownedBy: 'openai', providers: ['alpha', 'beta', 'gamma'] },
  { id: 'gpt-4o', ownedBy: 'openai', providers: ['alpha', 'beta'] },
  { id: 'claude-3-haiku', ownedBy: 'anthropic', providers: ['beta', 'gamma'] },
  { id: 'llama-3-70b', ownedBy: 'meta', providers: ['alpha', 'gamma'] },
  { id: 'qwen-2.5-72b', ownedBy: 'alibaba', providers: ['gamma', 'alpha'] },
]

/** Names and default behaviour of the fake providers started with the app. */
export const FAKE_PROVIDERS = [
  { name: 'alpha', latencyMs: 25, errorRate: 0.01 },
  { name: 'beta', latencyMs: 45, errorRate: 0.02 },
  { name: 'gamma', latencyMs: 80, errorRate: 0.05 },
] as const
