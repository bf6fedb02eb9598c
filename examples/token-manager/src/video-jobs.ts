import { phases, poll } from '@hotpath/poller'
import type { Kysely } from 'kysely'
import type { TokenDatabase } from './db'
import type { TokenStore } from './token-store'

/** What the fake provider reports for a job. */
export interface VideoStatus {
  id: string
  status: 'queued' | 'running' | 'succeeded' | 'failed'
  progress: number
  url?: string
}

/** A job as `/videos/:id` shows it. */
export interface VideoJob {
  id: string
  tokenId: number
  status: string
  progress: number
  polls: number
  url: string | null
}

/**
 * Submits video-generation jobs with the least-loaded token and follows each one with an
 * adaptive schedule: every 5 s below 30%, 3 s to 70%, 2 s after; stretched ×1.5 after 3 checks
 * without progress; never beyond 10 s (all × `scale`).
 *
 * @example
 * const jobs = new VideoJobs(db, tokens, apiUrl, 1)
 * const { id } = await jobs.submit('a cat on a skateboard')
 */
export class VideoJobs {
  readonly #db: Kysely<TokenDatabase>
  readonly #tokens: TokenStore
  readonly #apiUrl: string
  readonly #scale: number
  readonly #controller = new AbortController()
  readonly #running = new Map<string, Promise<void>>()
  readonly #live = new Map<string, VideoJob>()
  completed = 0
  failed = 0

  constructor(db: Kysely<TokenDatabase>, tokens: TokenStore, apiUrl: string, scale: number) {
    this.#db = db
    this.#tokens = tokens
    this.#apiUrl = apiUrl
    this.#scale = scale
  }

  /** Jobs being polled. */
  get active(): number {
    return this.#running.size
  }

  /** Creates a job at the provider and starts following it in the background. */
  async submit(prompt: string): Promise<VideoJob> {
    const lease = await this.#tokens.pick()
    try {
      const response = await fetch(`${this.#apiUrl}/v1/videos`, {
        method: 'POST',
        headers: { authorization: `Bearer ${lease.token.secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ prompt }),
      })
      if (!response.ok) throw new Error(`provider refused the job: ${response.status}`)
      const created = (await response.json()) as VideoStatus
      const job: VideoJob = {
        id: created.id,
        tokenId: lease.token.id,
        status: 'queued',
        progress: 0,
        polls: 0,
        url: null,
      }
      await this.#db
        .insertInto('videos')
        .values({
          id: job.id,
          token_id: job.tokenId,
          prompt,
          status: job.status,
          progress: 0,
          polls: 0,
          created_at: Date.now(),
        })
        .execute()
      this.#live.set(job.id, job)
      const following = this.#follow(job, lease.token.secret).finally(() => {
        lease.release()
        this.#running.delete(job.id)
        this.#live.delete(job.id)
      })
      this.#running.set(job.id, following)
      return { ...job }
    } catch (error) {
      lease.release()
      throw error
    }
  }

  /** The job, live while it is polled, else from the database. */
  async get(id: string): Promise<VideoJob | undefined> {
    const live = this.#live.get(id)
    if (live) return { ...live }
    const row = await this.#db.selectFrom('videos').selectAll().where('id', '=', id).executeTakeFirst()
    return row
      ? {
          id: row.id,
          tokenId: row.token_id,
          status: row.status,
          progress: row.progress,
          polls: row.polls,
          url: row.url,
        }
      : undefined
  }

  async #follow(job: VideoJob, secret: string): Promise<void> {
    const s = this.#scale
    try {
      const final = await poll<VideoStatus>(
        async ({ signal }) => {
          const response = await fetch(`${this.#apiUrl}/v1/videos/${job.id}`, {
            headers: { authorization: `Bearer ${secret}` },
            signal,
          })
          if (!response.ok) throw new Error(`status check answered ${response.status}`)
          return (await response.json()) as VideoStatus
        },
        {
          name: 'video-job',
          isDone: (state) => state.status === 'succeeded',
          isFailed: (state) => state.status === 'failed',
          progress: (state) => state.progress,
          interval: phases([
            { until: 30, every: 5_000 * s },
            { until: 70, every: 3_000 * s },
            { every: 2_000 * s },
          ]),
          stall: { after: 3, backoff: 1.5 },
          maxInterval: 10_000 * s,
          deadline: 600_000 * s,
          retry: 3,
          signal: this.#controller.signal,
          onProgress: ({ state }) => {
            job.progress = state.progress
            job.status = state.status
            job.polls++
          },
        },
      )
      job.status = 'succeeded'
      job.progress = 100
      job.url = final.url ?? null
      this.completed++
    } catch {
      job.status = this.#controller.signal.aborted ? 'interrupted' : 'failed'
      if (job.status === 'failed') this.failed++
    }
    await this.#db
      .updateTable('videos')
      .set({
        status: job.status,
        progress: job.progress,
        url: job.url,
        polls: job.polls,
        finished_at: Date.now(),
      })
      .where('id', '=', job.id)
      .execute()
  }

  /** Waits for every job to finish. */
  async settle(): Promise<void> {
    await Promise.all(this.#running.values())
  }

  /** Stops polling (jobs are marked interrupted) and waits for their rows to be written. */
  async close(): Promise<void> {
    this.#controller.abort()
    await this.settle()
  }
}
