import { z } from 'zod';
import { nameLike } from '../../config/values.js';

/**
 * `type: reject` as mihomo reads it: a name and nothing else that matters. Extra keys pass
 * through, as mihomo ignores them.
 */
export const rejectSchema = z.looseObject({
  name: nameLike,
  type: z.literal('reject'),
});

/** A validated `type: reject` mapping. */
export type RejectOptions = z.output<typeof rejectSchema>;
