/**
 * Whether V8's own flags take effect here. Bun (JavaScriptCore) ships a node:v8 that accepts
 * setFlagsFromString and ignores it, and reports a V8 version it does not run, so the question
 * cannot be asked of node:v8 itself: the one tell is the engine a runtime says it embeds
 * (`process.versions.webkit` for JavaScriptCore). Everything V8-only (GC flags) asks here.
 */
export function engineTakesV8Flags(versions: NodeJS.ProcessVersions = process.versions): boolean {
  return typeof versions.v8 === 'string' && (versions as Record<string, string | undefined>).webkit === undefined;
}

/** The runtime for -v and logs: `bun 1.4.5` (Bun also reports the Node version it mimics), else `node v20.x`. */
export function runtimeLabel(versions: NodeJS.ProcessVersions = process.versions): string {
  const bun = (versions as Record<string, string | undefined>).bun;
  return bun !== undefined ? `bun ${bun}` : `node v${versions.node}`;
}
