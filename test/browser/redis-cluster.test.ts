/**
 * Topics across processes in real browsers: a Node, a Bun and a Deno server
 * on one Redis; a page on the Node server and a page on the Bun server both
 * show an event published through the Deno server, with the same id (its
 * Redis stream id), in Chromium and Firefox.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cluster, publishOk, startCluster } from '../support/redis-cluster.ts'
import { browserNames, useBrowsers } from './browsers.ts'
import { eventsShown, openTopicPage, waitForEvents } from './topic-page.ts'

const browserFor = useBrowsers()

describe('a cluster on one Redis', () => {
  let cluster: Cluster
  beforeAll(async () => {
    cluster = await startCluster()
  })
  afterAll(() => cluster?.stop())

  it.for(browserNames)('%s: two pages on two servers show what a third one published', async (name, ctx) => {
    const { browser } = browserFor(name, ctx)
    const [node, bun, deno] = cluster.instances as [
      Cluster['instances'][0],
      Cluster['instances'][0],
      Cluster['instances'][0],
    ]
    const topic = `cluster-${name}`
    const [onNode, onBun] = await Promise.all([
      openTopicPage(browser, node.url, topic, ctx),
      openTopicPage(browser, bun.url, topic, ctx),
    ])
    const id = await publishOk(deno, topic, 'published through Deno')
    expect(id).toMatch(/^\d+-\d+$/)
    for (const { page } of [onNode, onBun]) {
      await waitForEvents(page, 1)
      expect(await eventsShown(page)).toEqual({
        events: [{ id, type: 'message', data: 'published through Deno' }],
        lastId: id,
      })
    }
  })
})
