import type { CacheChannelMessages, cacheChannels } from '@hotpath/cache'
import type { concurrencyChannels } from '@hotpath/concurrency'
import type { PoolChannelMessages, poolChannels } from '@hotpath/pool'
import { describe, expectTypeOf, it } from 'vitest'
import type { ChannelMessages, ChannelName } from '../src/collect-channels'

// Checked by `tsc` (the root tsconfig covers packages/*/test): the channel names collect()
// subscribes to are typed by what the packages declare, so a name no package publishes is an error.
describe('collect() channel contract (types)', () => {
  it('knows the channels the packages declare, with their message types', () => {
    expectTypeOf<typeof poolChannels.acquire>().toExtend<ChannelName>()
    expectTypeOf<typeof concurrencyChannels.lockWait>().toExtend<ChannelName>()
    expectTypeOf<typeof cacheChannels.load>().toExtend<ChannelName>()
    expectTypeOf<ChannelMessages['hotpath:pool:acquire']>().toEqualTypeOf<
      PoolChannelMessages[typeof poolChannels.acquire]
    >()
    expectTypeOf<ChannelMessages['hotpath:cache:bus']['lag']>().toEqualTypeOf<
      CacheChannelMessages['hotpath:cache:bus']['lag']
    >()
    // @ts-expect-error a channel name no package publishes (as after a rename in the package)
    const renamed: ChannelName = 'hotpath:pool:aquire'
    // @ts-expect-error a message field the package does not declare
    const field: ChannelMessages['hotpath:pool:acquire']['waitedMs'] = 1
    void [renamed, field]
  })
})
