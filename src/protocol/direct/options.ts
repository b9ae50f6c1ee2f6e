import { z } from 'zod';
import { nameLike } from '../../config/values.js';
import { dialShape } from '../common/dial-options.js';

/**
 * `type: direct` as mihomo reads it: a name and the dial keys every proxy shares
 * (common/dial-options.ts). Keys we do not use (udp…) pass through: mihomo ignores extra keys,
 * and existing configs must load unchanged.
 */
export const directSchema = z.looseObject({
  name: nameLike,
  type: z.literal('direct'),
  ...dialShape,
});

/** A validated `type: direct` mapping. */
export type DirectOptions = z.output<typeof directSchema>;
