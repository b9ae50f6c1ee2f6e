/** /configs (mihomo's hub/route/configs.go): GET the general settings, PATCH them live, PUT a new config. */
import { readFile, realpath } from 'node:fs/promises';
import { delimiter, isAbsolute, relative, resolve } from 'node:path';
import { z } from 'zod';
import type { ConfigPatch } from '../../core/control-plane.js';
import { ApiError, MESSAGES, noContent, readJson, sendJson } from '../http.js';
import type { Handler, Router } from '../router.js';
import { configJson } from '../shapes.js';

/** A config sent as `payload` may be large (thousands of proxies); anything beyond is refused. */
export const CONFIG_BODY_LIMIT = 8 << 20;

const port = z.number().int().min(0).max(65535);
/** mihomo's configSchema, the part we apply; other keys are accepted and ignored as unknown JSON. */
const patchSchema = z.object({
  port: port.optional(),
  'socks-port': port.optional(),
  'mixed-port': port.optional(),
  'allow-lan': z.boolean().optional(),
  'bind-address': z.string().optional(),
  mode: z.string().optional(),
  'log-level': z.string().optional(),
  ipv6: z.boolean().optional(),
});

const putSchema = z.object({ path: z.string().optional(), payload: z.string().optional() });

/** Whether `p` is inside `dir` (or is it). */
function inside(dir: string, p: string): boolean {
  const rel = relative(dir, p);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** mihomo's SAFE_PATHS: more folders (separated as PATH is) a config path may be in. */
function safePaths(home: string): string[] {
  return [home, ...(process.env.SAFE_PATHS ?? '').split(delimiter).filter((p) => p !== '').map((p) => resolve(p))];
}

/** Refuses a path outside the home dir and SAFE_PATHS, symlinks followed. */
async function checkedPath(path: string, home: string): Promise<string> {
  if (!isAbsolute(path)) throw new ApiError(400, 'path is not a absolute path');
  const notSafe = new ApiError(400, `path is not subpath of home directory or SAFE_PATHS: ${path}`);
  if (path.includes('\0')) throw notSafe;
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    real = resolve(path); // a missing file is judged by its name, then fails to read
  }
  const roots = await Promise.all(safePaths(home).map((p) => realpath(p).catch(() => p)));
  if (!roots.some((root) => inside(root, real))) throw notSafe;
  return real;
}

export function configRoutes(router: Router): void {
  router
    .add('GET', '/configs', { handle: (r) => sendJson(r.res, 200, configJson(r.api.control.config())) })
    .add('PATCH', '/configs', {
      async handle(r) {
        const parsed = patchSchema.safeParse(await readJson(r.req));
        if (!parsed.success) throw new ApiError(400, MESSAGES.badRequest);
        const b = parsed.data;
        const patch: ConfigPatch = {
          ...(b.mode !== undefined && { mode: b.mode }),
          ...(b['log-level'] !== undefined && { logLevel: b['log-level'] }),
          ...(b['allow-lan'] !== undefined && { allowLan: b['allow-lan'] }),
          ...(b['bind-address'] !== undefined && { bindAddress: b['bind-address'] }),
          ...(b.port !== undefined && { port: b.port }),
          ...(b['socks-port'] !== undefined && { socksPort: b['socks-port'] }),
          ...(b['mixed-port'] !== undefined && { mixedPort: b['mixed-port'] }),
          ...(b.ipv6 !== undefined && { ipv6: b.ipv6 }),
        };
        // a port the config already has needs no reload (dashboards send the whole form back)
        const now = r.api.control.config();
        const same =
          (patch.port === undefined || patch.port === now.port) &&
          (patch.socksPort === undefined || patch.socksPort === now.socksPort) &&
          (patch.mixedPort === undefined || patch.mixedPort === now.mixedPort) &&
          (patch.allowLan === undefined || patch.allowLan === now.allowLan) &&
          (patch.bindAddress === undefined || patch.bindAddress === now.bindAddress);
        await r.api.control.patchConfig(same ? { mode: patch.mode, logLevel: patch.logLevel, ipv6: patch.ipv6 } : patch);
        noContent(r.res);
      },
    })
    .add('PUT', '/configs', {
      async handle(r) {
        const parsed = putSchema.safeParse(await readJson(r.req, CONFIG_BODY_LIMIT));
        if (!parsed.success) throw new ApiError(400, MESSAGES.badRequest);
        const { path, payload } = parsed.data;
        // ?force=true: mihomo rebinds every listener; our reload diffs them, live connections stay
        let text: string;
        if (payload) text = payload;
        else {
          const file = path || r.api.configFile;
          if (!file) throw new ApiError(400, 'no config path given and no config file is known');
          const real = await checkedPath(file, r.api.homeDir);
          try {
            text = await readFile(real, 'utf8');
          } catch (err) {
            throw new ApiError(400, `configuration file ${file} cannot be read: ${(err as Error).message}`);
          }
        }
        await r.api.control.reload(text);
        noContent(r.res);
      },
    })
    .add('POST', '/configs/geo', { handle: updateGeo });
}

/** POST /configs/geo (and mihomo's /upgrade/geo, the same update): 204, or 500 with the reason. */
export const updateGeo: Handler = async (r) => {
  try {
    await r.api.control.updateGeo();
  } catch (err) {
    r.api.log.error(`[GEO] update GEO databases failed: ${(err as Error).message}`);
    throw new ApiError(500, (err as Error).message);
  }
  noContent(r.res);
};
