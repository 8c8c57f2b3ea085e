/**
 * The floor and our server side by side, for cases that compare them: both spawned, a
 * client attached to each with Memory Space enabled, and both stopped whatever happens.
 */
import type { VfioUserClient } from '../../src/vfio-user/client/client.js';
import { enableMemorySpace } from './device.js';
import { connectClient, spawnTarget, type Target } from './targets.js';
import type { CaseContext } from './types.js';

export interface Attached {
  /** Display name of each side: 'floor', then the server's. */
  name: string;
  client: VfioUserClient;
}

export async function withFloorAndServer<T>(
  ctx: CaseContext,
  body: (sides: Attached[]) => Promise<T>,
): Promise<T> {
  const targets: Target[] = [spawnTarget(ctx.floor), spawnTarget(ctx.server)];
  const names = ['floor', ctx.server.name];
  try {
    const sides: Attached[] = [];
    for (const [i, t] of targets.entries()) {
      const client = await connectClient(t);
      await enableMemorySpace(client);
      sides.push({ name: names[i]!, client });
    }
    const result = await body(sides);
    for (const s of sides) s.client.close();
    return result;
  } finally {
    await Promise.all(targets.map((t) => t.stop()));
  }
}
