/**
 * The config written to HOMEDIR/config.yaml when none exists: a local mixed proxy on 7890, the
 * controller on loopback, everything DIRECT.
 */
export const DEFAULT_CONFIG_YAML = `# clash-ts default config (mihomo format)
mixed-port: 7890
allow-lan: false
mode: rule
log-level: info
external-controller: 127.0.0.1:9090

rules:
  - MATCH,DIRECT
`;
